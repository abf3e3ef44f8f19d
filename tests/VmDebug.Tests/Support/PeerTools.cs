namespace VmDebug.Tests.Support;

/// <summary>Independent readers of dump files: makedumpfile, crash, readelf.</summary>
public static class PeerTools
{
    /// <summary>The kernel log makedumpfile extracts from a dump using VMCOREINFO alone.</summary>
    public static async Task<string> MakedumpfileDmesgAsync(string dump)
    {
        var makedumpfile = TestEnvironment.RequireTool("makedumpfile", "makedumpfile");
        var output = Path.Combine(Path.GetDirectoryName(dump)!, Path.GetFileName(dump) + ".dmesg");
        File.Delete(output);
        var (exit, stdout, stderr) = await TestEnvironment.RunAsync(makedumpfile, ["--dump-dmesg", dump, output]);
        Assert.True(exit == 0, $"makedumpfile --dump-dmesg {dump} failed ({exit}): {stdout}{stderr}");
        var log = await File.ReadAllTextAsync(output);
        File.Delete(output);
        return log;
    }

    /// <summary>crash's `log` output for a dump, with the guest kernel's -dbg vmlinux.</summary>
    public static Task<string> CrashLogAsync(string vmlinux, string dump) => CrashCommandsAsync(vmlinux, dump, "log\n");

    /// <summary>crash's output for <paramref name="commands"/> (newline-separated) in one run, with the -dbg vmlinux.</summary>
    public static async Task<string> CrashCommandsAsync(string vmlinux, string dump, string commands)
    {
        var crash = TestEnvironment.RequireTool("crash", "crash");
        var (exit, stdout, stderr) = await TestEnvironment.RunAsync(crash, ["-s", vmlinux, dump], stdin: commands + "quit\n",
            timeout: TimeSpan.FromMinutes(3));
        if (exit != 0 && stdout.Length == 0 && stderr.Length == 0)
        {
            // Seen twice under a fully loaded machine: crash exiting 1 before printing anything, on files it then read
            // fine. One retry on exactly that symptom; any error message, or a second silent exit, still fails.
            TestContext.Current.SendDiagnosticMessage($"crash exited {exit} silently on {dump}; retrying once");
            (exit, stdout, stderr) = await TestEnvironment.RunAsync(crash, ["-s", vmlinux, dump], stdin: commands + "quit\n",
                timeout: TimeSpan.FromMinutes(3));
        }

        Assert.True(exit == 0, $"crash {dump} failed ({exit}): {stdout}{stderr}");
        return stdout;
    }
}
