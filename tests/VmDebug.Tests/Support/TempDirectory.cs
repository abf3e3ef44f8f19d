using System.Runtime.InteropServices;

namespace VmDebug.Tests.Support;

/// <summary>A private temporary directory, removed with everything in it.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "vmdebug-test-") => Path = Directory.CreateTempSubdirectory(prefix).FullName;

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A QEMU still shutting down may hold a socket in it; the OS temp cleaner takes the rest.
        }
    }
}

/// <summary>A small tmpfs (read-only or size-limited) for full-disk and unwritable-directory tests; needs root to mount.</summary>
public sealed partial class TmpfsMount : IDisposable
{
    private TmpfsMount(string path) => Path = path;

    public string Path { get; }

    public static async Task<TmpfsMount> CreateAsync(string options)
    {
        if (GetEuid() != 0)
        {
            Assert.Skip("mounting a tmpfs needs root; CI runs as root");
        }

        var path = Directory.CreateTempSubdirectory("vmdebug-tmpfs-").FullName;
        var (exit, _, stderr) = await TestEnvironment.RunAsync("mount", ["-t", "tmpfs", "-o", options, "vmdebug-test", path]);
        Assert.True(exit == 0, $"mount tmpfs failed: {stderr}");
        return new TmpfsMount(path);
    }

    public void Dispose()
    {
        TestEnvironment.RunAsync("umount", ["-l", Path]).GetAwaiter().GetResult();
        Directory.Delete(Path);
    }

    [LibraryImport("libc", EntryPoint = "geteuid")]
    internal static partial uint GetEuid();
}
