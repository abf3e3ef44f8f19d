using System.Diagnostics;
using VmDebug.Engine.Guest;

namespace VmDebug.Tests.Support;

/// <summary>Where the repository, tools and the test guest are; tests skip only when a tool is absent.</summary>
public static class TestEnvironment
{
    private static readonly Lazy<string> LazyRepoRoot = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VmDebug.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Cannot find the repository root (VmDebug.slnx) above " + AppContext.BaseDirectory);
    });

    private static readonly Lazy<GuestImage> LazyGuest = new(() => BuildGuest(debugSymbols: false));
    private static readonly Lazy<GuestImage> LazyGuestWithSymbols = new(() => BuildGuest(debugSymbols: true));
    private static readonly Lazy<GuestImage> LazyGuest612WithSymbols = new(() =>
        GuestImage.Build(Path.Combine(RepoRoot, "scripts", "build-guest.sh"), debugSymbols: true, kernelSeries: "6.12"));

    public static string RepoRoot => LazyRepoRoot.Value;

    public static string? FindTool(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':').Append("/usr/sbin").Append("/sbin"))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Returns the tool's path, or skips the test naming the tool and its package.</summary>
    public static string RequireTool(string name, string package)
    {
        var path = FindTool(name);
        if (path is null)
        {
            Assert.Skip($"{name} is not installed (apt package {package}); .ci/run installs it.");
        }

        return path;
    }

    /// <summary>The test guest (built by scripts/build-guest.sh on first use); skips only when QEMU is absent.</summary>
    public static GuestImage Guest
    {
        get
        {
            RequireTool(QemuGuest.QemuBinary, "qemu-system-x86");
            return LazyGuest.Value;
        }
    }

    /// <summary>The test guest with its -dbg vmlinux, for crash.</summary>
    public static GuestImage GuestWithDebugSymbols
    {
        get
        {
            RequireTool(QemuGuest.QemuBinary, "qemu-system-x86");
            return LazyGuestWithSymbols.Value;
        }
    }

    /// <summary>The test guest on a kernel series (6.1, the default, or 6.12), with its -dbg vmlinux.</summary>
    public static GuestImage GuestWithDebugSymbolsFor(string kernelSeries)
    {
        RequireTool(QemuGuest.QemuBinary, "qemu-system-x86");
        return kernelSeries == "6.12" ? LazyGuest612WithSymbols.Value : LazyGuestWithSymbols.Value;
    }

    /// <summary>The test guest on Debian's 6.12 cloud kernel, with its -dbg vmlinux.</summary>
    public static GuestImage Guest612WithDebugSymbols => GuestWithDebugSymbolsFor("6.12");

    private static GuestImage BuildGuest(bool debugSymbols) =>
        GuestImage.Build(Path.Combine(RepoRoot, "scripts", "build-guest.sh"), debugSymbols);

    /// <summary>Runs a peer tool and returns exit code, stdout and stderr (bounded wait).</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string file, IEnumerable<string> arguments,
        string? stdin = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', start.ArgumentList)} did not finish in time");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
