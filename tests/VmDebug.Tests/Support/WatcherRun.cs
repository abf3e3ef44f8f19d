using System.Collections.Concurrent;
using System.Threading.Channels;
using VmDebug.Engine.Fleet;
using VmDebug.Engine.Guest;
using VmDebug.Engine.Qmp;

namespace VmDebug.Tests.Support;

/// <summary>A FleetWatcher running in the background; tests wait for the events they expect, with generous limits.</summary>
public sealed class WatcherRun : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly Task _run;
    private readonly Channel<WatchEvent> _pending = Channel.CreateUnbounded<WatchEvent>();
    private readonly List<WatchEvent> _unclaimed = [];

    public WatcherRun(WatchOptions options, CancellationToken cancellationToken)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _run = Task.Run(async () =>
        {
            try
            {
                await foreach (var watchEvent in FleetWatcher.WatchAsync(options, _stop.Token))
                {
                    All.Enqueue(watchEvent);
                    TestContext.Current.SendDiagnosticMessage(watchEvent.ToString());
                    _pending.Writer.TryWrite(watchEvent);
                }
            }
            finally
            {
                _pending.Writer.TryComplete();
            }
        });
    }

    public ConcurrentQueue<WatchEvent> All { get; } = new();

    /// <summary>The first event (seen before or after this call, not claimed yet) that matches; fails after <paramref name="limit"/>.</summary>
    public async Task<WatchEvent> WaitForAsync(Func<WatchEvent, bool> match, TimeSpan limit, string what)
    {
        var claimed = _unclaimed.FirstOrDefault(match);
        if (claimed is not null)
        {
            _unclaimed.Remove(claimed);
            return claimed;
        }
        using var deadline = new CancellationTokenSource(limit);
        try
        {
            while (true)
            {
                var next = await _pending.Reader.ReadAsync(deadline.Token);
                if (match(next))
                {
                    return next;
                }
                _unclaimed.Add(next);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
            Assert.Fail($"No {what} within {limit.TotalSeconds:0} s. Events: {string.Join(" | ", All)}");
            throw;
        }
    }

    /// <summary>Stops the watcher and waits until it has ended (captures cancelled, folders cleaned).</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _run;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    /// <summary>A small test guest in <paramref name="directory"/> (its qmp.sock there), with a second QMP monitor ctl.sock for the test.</summary>
    public static async Task<QemuGuest> StartGuestAsync(string directory, int? panicAfterSeconds = null, bool rebootOnReset = false,
        CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(directory);
        return await QemuGuest.StartAsync(TestEnvironment.Guest, new GuestLaunchOptions
        {
            MemoryMiB = 256,
            Markers = 1,
            PanicAfterSeconds = panicAfterSeconds,
            // An injected NMI is an unknown one: the guest panics on it ("NMI: Not continuing").
            KernelArguments = ["sysctl.kernel.unknown_nmi_panic=1"],
            // The test guest has -no-reboot, under which even a QMP system_reset ends QEMU; reboot=reset undoes it.
            QemuArguments = ["-qmp", $"unix:{ControlSocket(directory)},server=on,wait=off", .. rebootOnReset ? new[] { "-action", "reboot=reset" } : []],
        }, directory, cancellationToken);
    }

    public static string ControlSocket(string directory) => Path.Combine(directory, "ctl.sock");

    /// <summary>Waits until the guest's init has run (its marker line is on the console).</summary>
    public static async Task WaitBootedAsync(QemuGuest guest, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(120));
        while (!guest.ReadConsole().Contains("vmdebug marker 1", StringComparison.Ordinal))
        {
            Assert.False(guest.HasExited, "QEMU exited: " + guest.ReadStderrTail());
            await Task.Delay(200, deadline.Token);
        }
    }

    /// <summary>Makes the guest panic now, through the test's own monitor.</summary>
    public static async Task InjectNmiAsync(string directory, CancellationToken cancellationToken)
    {
        await using var control = await QmpClient.ConnectAsync(ControlSocket(directory), null, cancellationToken);
        await control.ExecuteAsync("inject-nmi", null, null, cancellationToken);
    }
}
