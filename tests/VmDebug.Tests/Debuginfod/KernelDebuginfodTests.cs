using System.Security.Cryptography;
using VmDebug.Engine.Debuginfod;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Debuginfod;

/// <summary>The real thing: debuginfod -U over the test kernel's Debian -dbg package serves its vmlinux by build id.</summary>
[Collection(DebuginfodCollection.Name)]
public sealed class KernelDebuginfodTests(DebuginfodFixture debuginfod)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Serves_the_test_kernels_vmlinux_from_its_dbg_package()
    {
        var server = debuginfod.Server;
        var image = TestEnvironment.GuestWithDebugSymbols;
        var (_, notes, _) = await TestEnvironment.RunAsync("readelf", ["-n", image.Vmlinux!]);
        var line = notes.Split('\n').First(l => l.Contains("Build ID:", StringComparison.Ordinal));
        var buildId = line[(line.IndexOf(':') + 1)..].Trim();
        using var cache = new TempDirectory();
        using var client = new DebuginfodClient([server.Url]);

        var path = await client.FetchDebugInfoAsync(buildId, cache.Path, Token);

        Assert.Equal(Path.Combine(cache.Path, buildId, "vmlinux"), path);
        Assert.Equal(new FileInfo(image.Vmlinux!).Length, new FileInfo(path).Length);
        Assert.Equal(await Sha256Async(image.Vmlinux!), await Sha256Async(path));
        TestContext.Current.SendDiagnosticMessage($"debuginfod scanned the .deb in {server.ScanTime.TotalSeconds:0} s");
    }

    private static async Task<string> Sha256Async(string path)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexString(await SHA256.HashDataAsync(stream, Token));
    }
}
