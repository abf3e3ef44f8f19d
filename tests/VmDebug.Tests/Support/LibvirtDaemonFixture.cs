using VmDebug.Engine.Libvirt;
using VmDebug.TestServices;

namespace VmDebug.Tests.Support;

/// <summary>
/// The private libvirtd (see <see cref="LibvirtTestDaemon"/>, shared with the Pester suite through vmdebug-testhost)
/// as an xunit collection fixture: one daemon for the collection, skipped naming the package when libvirtd is absent.
/// </summary>
public sealed class LibvirtDaemonFixture : IAsyncLifetime
{
    private LibvirtTestDaemon? _daemon;

    public string? SkipReason { get; private set; }
    private LibvirtTestDaemon Daemon => _daemon ?? throw new InvalidOperationException(SkipReason ?? "The libvirt test daemon is not started.");
    public string RootDirectory => _daemon?.RootDirectory ?? "";
    public string SocketPath => Daemon.SocketPath;
    public string Uri => Daemon.Uri;
    public string ReadOnlyUri => Daemon.ReadOnlyUri;
    /// <summary>The daemon's qemu.conf (/etc/libvirt/qemu.conf inside its namespace).</summary>
    public string QemuConfPath => Daemon.QemuConfPath;
    /// <summary>/run/libvirt inside the daemon's namespace: QEMU pid files are in its qemu/ folder.</summary>
    public string RunDirectory => Daemon.RunDirectory;
    /// <summary>The daemon serving <see cref="SocketPath"/> now (a restart changes it); null when none answers.</summary>
    public int? DaemonProcessId => Daemon.DaemonProcessId;
    /// <summary>The PID of the QEMU process running <paramref name="domain"/>, from libvirt's pid file.</summary>
    public int QemuProcessId(string domain) => Daemon.QemuProcessId(domain);
    /// <summary>From process start until the daemon socket exists.</summary>
    public TimeSpan DaemonStartTime => Daemon.DaemonStartTime;
    /// <summary>From socket present until the first virConnectGetVersion answered (QEMU capability probing).</summary>
    public TimeSpan FirstCallTime => Daemon.FirstCallTime;

    public void SkipIfUnavailable()
    {
        if (SkipReason is not null)
        {
            Assert.Skip(SkipReason);
        }
    }

    public LibvirtConnection Connect() => Daemon.Connect();

    /// <summary>Stops libvirtd by its PID; virtlogd and the domains' QEMU keep running. Start it again before the test ends.</summary>
    public Task StopLibvirtdAsync() => Daemon.StopLibvirtdAsync();

    /// <summary>Starts libvirtd again on the same socket, in the same namespace; returns once it answers.</summary>
    public Task StartLibvirtdAsync() => Daemon.StartLibvirtdAsync();

    /// <summary>
    /// Destroys and undefines a test domain. Right after a restart that cut a dump short, the new daemon may still be
    /// settling the domain's state (seen: it stops between IsActive and Destroy), so this is retried briefly.
    /// </summary>
    public async Task RemoveDomainAsync(string name, Action<string> log)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var connection = Connect();
                using var domain = connection.LookupDomain(name);
                if (domain.IsActive)
                {
                    domain.Destroy();
                }

                domain.Undefine();
                return;
            }
            catch (LibvirtException e) when (clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                log($"removing {name}: {e.Message}; retrying");
                await Task.Delay(500);
            }
        }
    }

    /// <summary>Daemon stderr and log tails, for failure messages.</summary>
    public string DaemonDiagnostics() => _daemon?.DaemonDiagnostics() ?? SkipReason ?? "";

    public async ValueTask InitializeAsync()
    {
        var (libvirtd, virtlogd, missing) = LibvirtTestDaemon.FindDaemons();
        SkipReason = missing;
        if (missing is null)
        {
            _daemon = await LibvirtTestDaemon.StartAsync(libvirtd!, virtlogd!);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_daemon is not null)
        {
            await _daemon.DisposeAsync();
        }

        _daemon = null;
    }
}

[CollectionDefinition(Name)]
public sealed class LibvirtDaemonCollection : ICollectionFixture<LibvirtDaemonFixture>
{
    public const string Name = "libvirt daemon";
}
