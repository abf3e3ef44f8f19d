using System.Diagnostics;
using VmDebug.Engine.CrashConfiguration;

namespace VmDebug.Tests.Support;

/// <summary>A scratch directory that also serves as a host tree (proc/, etc/, run/, usr/) for detection code.</summary>
internal sealed class TestHost : IDisposable
{
    public TestHost()
    {
        Root = Directory.CreateTempSubdirectory("vmdebug-hostconfig-").FullName;
        foreach (var d in new[] { "proc", "etc", "run", "usr" })
        {
            Directory.CreateDirectory(Path.Combine(Root, d));
        }

        Paths = new HostPaths(Path.Combine(Root, "proc"), Path.Combine(Root, "etc"), Path.Combine(Root, "run"), Path.Combine(Root, "usr"));
    }

    public string Root { get; }
    public HostPaths Paths { get; }

    public string Write(string relativePath, string content)
    {
        var path = Path.Combine(Root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>Debian 12's stock qemu.conf, copied into the scratch directory.</summary>
    public string StockQemuConf()
    {
        var path = Path.Combine(Root, "libvirt", "qemu.conf");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Copy(StockQemuConfSource, path);
        return path;
    }

    public static string StockQemuConfSource => Path.Combine(AppContext.BaseDirectory, "CrashConfiguration", "TestData", "debian12-qemu.conf");

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }

    /// <summary>Runs a tool; the test is skipped only if the tool is not installed.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string tool, params string[] args)
    {
        var exe = new[] { "/usr/bin/", "/bin/", "/usr/sbin/" }.Select(d => d + tool).FirstOrDefault(File.Exists);
        if (exe is null)
        {
            Assert.Skip($"{tool} is not installed.");
        }

        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr);
    }
}
