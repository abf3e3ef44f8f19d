using System.Diagnostics;
using VmDebug.Engine;
using VmDebug.Engine.Guest;
using VmDebug.Engine.Panic;
using VmDebug.Engine.Qmp;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Panic;

/// <summary>A real test guest under QEMU TCG panics, and VmDebug hears it over QMP.</summary>
public sealed class GuestPanicTests
{
    [Fact]
    public async Task RealGuestPanicArrivesAsGuestPanickedEvent()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var guest = await QemuGuest.StartAsync(TestEnvironment.Guest, new GuestLaunchOptions { PanicAfterSeconds = 0 }, cancellationToken: ct);

        var panic = await GuestPanicWatcher.WaitAsync(guest.QmpSocketPath, TimeSpan.FromSeconds(90), ct);

        Assert.Equal(GuestPanicKind.Panicked, panic.Kind);
        Assert.Equal("pause", panic.Action);
        Assert.False(panic.AlreadyPanicked);
        Assert.InRange(panic.Time!.Value, DateTimeOffset.Now.AddMinutes(-2), DateTimeOffset.Now.AddSeconds(5));
        Assert.Contains("Kernel panic - not syncing", guest.ReadConsole());

        // A second watcher connecting after the fact still learns of the panic, from query-status.
        var again = await GuestPanicWatcher.WaitAsync(guest.QmpSocketPath, TimeSpan.FromSeconds(5), ct);
        Assert.True(again.AlreadyPanicked);
        Assert.Null(again.Time);
        await using var qmp = await QmpClient.ConnectAsync(guest.QmpSocketPath, null, ct);
        Assert.Equal("guest-panicked", (await qmp.QueryStatusAsync(null, ct)).Status);
    }

    [Fact]
    public async Task GuestThatDoesNotPanicTimesOutWithATypedError()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var guest = await QemuGuest.StartAsync(TestEnvironment.Guest, new GuestLaunchOptions { MemoryMiB = 128 }, cancellationToken: ct);

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<VmDebugException>(() => GuestPanicWatcher.WaitAsync(guest.QmpSocketPath, TimeSpan.FromSeconds(1), ct));

        Assert.Equal("GuestPanicWaitTimeout", error.ErrorId);
        Assert.Equal(ErrorKind.OperationTimeout, error.Kind);
        Assert.Equal(guest.QmpSocketPath, error.Target);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task QemuExitingWhileWaitingFailsPromptly()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var guest = await QemuGuest.StartAsync(TestEnvironment.Guest, new GuestLaunchOptions { MemoryMiB = 128 }, cancellationToken: ct);
        var waiting = GuestPanicWatcher.WaitAsync(guest.QmpSocketPath, null, ct);
        await Task.Delay(500, ct);

        guest.Signal(9);
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<VmDebugException>(() => waiting);

        Assert.Equal("GuestPanicQemuExited", error.ErrorId);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
    }
}
