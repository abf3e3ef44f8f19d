using VmDebug.TestServices;

namespace VmDebug.Tests.Support;

/// <summary>Two small ELF programs with GNU build-id notes (gcc -Wl,--build-id), served by a real debuginfod -F.</summary>
public sealed class SmallElfDebuginfodFixture : IAsyncLifetime
{
    private readonly TempDirectory _files = new("vmdebug-debuginfod-elf-");
    private DebuginfodTestServer? _server;

    public string? SkipReason { get; private set; }
    public DebuginfodTestServer Server => _server ?? throw new InvalidOperationException(SkipReason);
    public string FirstPath => _files.File("first");
    public string SecondPath => _files.File("second");
    public string FirstBuildId { get; private set; } = "";
    public string SecondBuildId { get; private set; } = "";

    public void SkipIfUnavailable()
    {
        if (SkipReason is not null)
        {
            Assert.Skip(SkipReason);
        }
    }

    public async ValueTask InitializeAsync()
    {
        SkipReason = DebuginfodTestServer.MissingReason(DebuginfodScan.ElfFiles)
                     ?? (TestEnvironment.FindTool("gcc") is null ? "gcc is not installed (apt package gcc)" : null)
                     ?? (TestEnvironment.FindTool("readelf") is null ? "readelf is not installed (apt package binutils)" : null);
        if (SkipReason is not null)
        {
            return;
        }

        FirstBuildId = await CompileAsync(FirstPath, "int main(void) { return 1; }");
        SecondBuildId = await CompileAsync(SecondPath, "int main(void) { return 2; }");
        _server = await DebuginfodTestServer.StartAsync(_files.Path, DebuginfodScan.ElfFiles, TimeSpan.FromMinutes(2));
    }

    /// <summary>Compiles the program and returns its build id as readelf, the peer reader, prints it.</summary>
    private async Task<string> CompileAsync(string output, string source)
    {
        var sourcePath = output + ".c";
        await File.WriteAllTextAsync(sourcePath, source);
        var (exit, _, stderr) = await TestEnvironment.RunAsync("gcc", ["-g", "-Wl,--build-id", "-o", output, sourcePath]);
        Assert.True(exit == 0, stderr);
        File.Delete(sourcePath);
        var (_, notes, _) = await TestEnvironment.RunAsync("readelf", ["-n", output]);
        var line = notes.Split('\n').Single(l => l.Contains("Build ID:", StringComparison.Ordinal));
        return line[(line.IndexOf(':') + 1)..].Trim();
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _files.Dispose();
    }
}
