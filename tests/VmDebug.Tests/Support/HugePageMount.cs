using System.Globalization;

namespace VmDebug.Tests.Support;

/// <summary>
/// A private hugetlbfs mount in a temporary directory, with 2 MiB huge pages reserved for it. These machines keep
/// no huge pages (vm.nr_hugepages 0), so the pool is raised by exactly what the mount needs and lowered by as much
/// again on disposal; nothing else machine-wide is touched. Needs root.
/// </summary>
public sealed class HugePageMount : IDisposable
{
    private const string Pool = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages";

    private readonly int _added;

    private HugePageMount(string path, int added)
    {
        Path = path;
        _added = added;
    }

    public string Path { get; }

    /// <summary>Skips only when the kernel lacks hugetlbfs or 2 MiB pages; fails, saying why, when the pages cannot be had.</summary>
    public static async Task<HugePageMount> CreateAsync(int megabytes)
    {
        if (!File.ReadAllText("/proc/filesystems").Contains("\thugetlbfs", StringComparison.Ordinal) || !File.Exists(Pool))
        {
            Assert.Skip("this kernel has no hugetlbfs with 2 MiB pages (none in /proc/filesystems or no " + Pool + "), so RAM cannot be put on huge pages");
        }
        if (TmpfsMount.GetEuid() != 0)
        {
            Assert.Skip("reserving huge pages and mounting hugetlbfs need root; CI runs as root");
        }
        var pages = (megabytes + 1) / 2;
        var before = ReadPool();
        File.WriteAllText(Pool, (before + pages).ToString(CultureInfo.InvariantCulture));
        var got = ReadPool() - before;
        var path = Directory.CreateTempSubdirectory("vmdebug-hugetlbfs-").FullName;
        var mount = new HugePageMount(path, got);
        if (got < pages)
        {
            mount.Dispose();
            Assert.Fail($"the kernel gave {got} of the {pages} free 2 MiB huge pages asked for ({Pool} {before} -> {before + got}): host memory is too fragmented");
        }
        var (exit, _, stderr) = await TestEnvironment.RunAsync("mount", ["-t", "hugetlbfs", "-o", $"pagesize=2M,size={pages * 2}M,mode=0700", "vmdebug-test", path]);
        if (exit != 0)
        {
            mount.Dispose();
            Assert.Fail($"mount -t hugetlbfs failed: {stderr}");
        }
        return mount;
    }

    private static int ReadPool() => int.Parse(File.ReadAllText(Pool).Trim(), CultureInfo.InvariantCulture);

    public void Dispose()
    {
        TestEnvironment.RunAsync("umount", [Path]).GetAwaiter().GetResult();
        Directory.Delete(Path);
        // Lower by what was added, not back to a remembered value, so a change made meanwhile by anyone else stays.
        File.WriteAllText(Pool, Math.Max(0, ReadPool() - _added).ToString(CultureInfo.InvariantCulture));
    }
}
