using VmDebug.TestServices;

namespace VmDebug.Tests.Support;

/// <summary>
/// A private debuginfod (<see cref="DebuginfodTestServer"/>) indexing the 6.1 test guest kernel's Debian -dbg
/// package with -U, as a collection fixture: scanning the 283 MB .deb takes a while, so it is done once per run for
/// every test of the collection. Tests skip, naming the package, when debuginfod or bsdtar is absent.
/// </summary>
public sealed class DebuginfodFixture : IAsyncLifetime
{
    private DebuginfodTestServer? _server;
    private TempDirectory? _packages;

    public string? SkipReason { get; private set; }

    public DebuginfodTestServer Server
    {
        get
        {
            if (SkipReason is not null)
            {
                Assert.Skip(SkipReason);
            }

            return _server ?? throw new InvalidOperationException("The debuginfod fixture is not started.");
        }
    }

    public Uri Url => Server.Url;

    /// <summary>The kernel release the served package is for (the 6.1 test guest's).</summary>
    public string KernelRelease { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        SkipReason = DebuginfodTestServer.MissingReason(DebuginfodScan.DebianPackages)
                     ?? (TestEnvironment.FindTool("qemu-system-x86_64") is null ? "qemu-system-x86_64 is not installed (apt package qemu-system-x86)" : null);
        if (SkipReason is not null)
        {
            return;
        }

        KernelRelease = TestEnvironment.GuestWithDebugSymbols.Release;
        var deb = await KernelDebugPackage.EnsureAsync(KernelRelease);
        _packages = new TempDirectory("vmdebug-debuginfod-debs-");
        File.CreateSymbolicLink(_packages.File(Path.GetFileName(deb)), deb);
        _server = await DebuginfodTestServer.StartAsync(_packages.Path, DebuginfodScan.DebianPackages, TimeSpan.FromMinutes(8));
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _packages?.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class DebuginfodCollection : ICollectionFixture<DebuginfodFixture>
{
    public const string Name = "debuginfod kernel package";
}
