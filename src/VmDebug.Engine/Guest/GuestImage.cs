using System.Diagnostics;

namespace VmDebug.Engine.Guest;

/// <summary>
/// The test guest built by scripts/build-guest.sh: a Debian cloud kernel plus a busybox initramfs.
/// <see cref="Vmlinux"/> (debug symbols for crash) is present only when built with --debug-symbols.
/// </summary>
public sealed record GuestImage(string Directory, string Kernel, string Initrd, string Release, string? Vmlinux)
{
    public static GuestImage Load(string directory)
    {
        var kernel = System.IO.Path.Combine(directory, "vmlinuz");
        var initrd = System.IO.Path.Combine(directory, "initrd.gz");
        var releaseFile = System.IO.Path.Combine(directory, "release");
        foreach (var required in new[] { kernel, initrd, releaseFile })
        {
            if (!File.Exists(required))
            {
                throw new VmDebugException("GuestImageIncomplete", ErrorKind.ObjectNotFound,
                    $"The test guest in '{directory}' is incomplete: '{required}' is missing. Run scripts/build-guest.sh.", directory);
            }
        }

        var vmlinux = System.IO.Path.Combine(directory, "vmlinux");
        return new GuestImage(directory, kernel, initrd, File.ReadAllText(releaseFile).Trim(), File.Exists(vmlinux) ? vmlinux : null);
    }

    /// <summary>Runs scripts/build-guest.sh (cached, so fast when built) and loads what it printed.</summary>
    public static GuestImage Build(string buildScript, bool debugSymbols, string? kernelSeries = null)
    {
        if (!File.Exists(buildScript))
        {
            throw new VmDebugException("GuestBuildScriptMissing", ErrorKind.ObjectNotFound,
                $"The guest build script '{buildScript}' does not exist.", buildScript);
        }

        var start = new ProcessStartInfo(buildScript) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (debugSymbols)
        {
            start.ArgumentList.Add("--debug-symbols");
        }
        if (kernelSeries is not null)
        {
            start.ArgumentList.Add("--kernel");
            start.ArgumentList.Add(kernelSeries);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new VmDebugException("GuestBuildFailed", ErrorKind.InvalidResult,
                $"'{buildScript}' failed with exit code {process.ExitCode}: {stderr.Result.Trim()}", buildScript);
        }

        return Load(stdout.Trim().Split('\n')[^1]);
    }

    /// <summary>Finds scripts/build-guest.sh above <paramref name="start"/> (the CLI runs from the repository's build output).</summary>
    public static string? FindBuildScript(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "scripts", "build-guest.sh");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
