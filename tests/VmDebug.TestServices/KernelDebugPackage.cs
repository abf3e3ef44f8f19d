using System.Diagnostics;

namespace VmDebug.TestServices;

/// <summary>
/// The Debian `linux-image-RELEASE-dbg` package of a test guest's kernel, kept in ~/.cache/vmdebug/dbg-debs
/// (scripts/build-guest.sh deletes its own copy after extracting the vmlinux). Downloaded once with apt-get.
/// </summary>
public static class KernelDebugPackage
{
    public static string CacheDirectory => Path.Combine(
        Environment.GetEnvironmentVariable("VMDEBUG_CACHE") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "vmdebug"),
        "dbg-debs");

    /// <summary>The .deb's path, downloading it first when absent (about 283 MB for the 6.1 cloud kernel).</summary>
    public static async Task<string> EnsureAsync(string kernelRelease)
    {
        var package = $"linux-image-{kernelRelease}-dbg";
        Directory.CreateDirectory(CacheDirectory);
        if (Find(package) is { } cached)
        {
            return cached;
        }

        var start = new ProcessStartInfo("apt-get") { WorkingDirectory = CacheDirectory, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { "download", "-q", "-o", "APT::Sandbox::User=root", package })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0 && Find(package) is { } downloaded
            ? downloaded
            : throw new InvalidOperationException($"apt-get download {package} failed ({process.ExitCode}): {(await stderr).Trim()}");
    }

    private static string? Find(string package) =>
        Directory.EnumerateFiles(CacheDirectory, $"{package}_*.deb").FirstOrDefault();
}
