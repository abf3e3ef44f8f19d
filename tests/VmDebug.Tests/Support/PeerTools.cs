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

    /// <summary>
    /// crash's output for <paramref name="commands"/> (newline-separated) in one run, with the -dbg vmlinux. The
    /// commands go in a file (crash -i) rather than on stdin: with many commands piped in, crash 8.0.2 under the test
    /// host repeatedly exited 1 without a word, while the same file given with -i ran.
    /// </summary>
    public static async Task<string> CrashCommandsAsync(string vmlinux, string dump, string commands, bool skipOnSilentExit = false)
    {
        var crash = TestEnvironment.RequireTool("crash", "crash");
        var input = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(dump))!, $"crash-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(input, commands + "quit\n");
        try
        {
            var (exit, stdout, stderr) = await TestEnvironment.RunAsync(crash, ["-s", "-i", input, vmlinux, dump], timeout: TimeSpan.FromMinutes(3));
            for (var retry = 1; retry <= 2 && exit != 0 && stdout.Length == 0 && stderr.Length == 0; retry++)
            {
                // Seen under a fully loaded machine: crash exiting 1 before printing anything, on files it then read
                // fine. Retries on exactly that symptom; any error message, or a third silent exit, still fails.
                TestContext.Current.SendDiagnosticMessage($"crash exited {exit} silently on {dump}; retry {retry}");
                (exit, stdout, stderr) = await TestEnvironment.RunAsync(crash, ["-s", "-i", input, vmlinux, dump], timeout: TimeSpan.FromMinutes(3));
            }

            if (skipOnSilentExit && exit != 0 && stdout.Length == 0 && stderr.Length == 0)
            {
                // Under the xunit test host (only there: by hand, from python, pwsh or under strace the same files and
                // commands pass) crash 8.0.2 exits 1 after loading the vmlinux, printing nothing. That is crash not
                // running, not a wrong answer; the caller's other peer check (the vmlinux symbol table) still runs.
                Assert.Skip($"crash exited {exit} three times without output on {dump} under the test host (a crash 8.0.2 fault, not a comparison result)");
            }
            Assert.True(exit == 0, $"crash {dump} failed ({exit}): {stdout}{stderr}");
            return stdout;
        }
        finally
        {
            File.Delete(input);
        }
    }

    /// <summary>
    /// The vmlinux's own symbol table (nm -n), text and data symbols sorted by link address: the independent check for
    /// kernels newer than Debian's crash 8.0.2 reads (it exits on 6.12 after loading the vmlinux).
    /// </summary>
    public static async Task<IReadOnlyList<(ulong Address, string Name)>> NmSymbolsAsync(string vmlinux)
    {
        var nm = TestEnvironment.RequireTool("nm", "binutils");
        var (exit, stdout, stderr) = await TestEnvironment.RunAsync(nm, ["-n", vmlinux], timeout: TimeSpan.FromMinutes(3));
        Assert.True(exit == 0, $"nm {vmlinux} failed ({exit}): {stderr}");
        var symbols = new List<(ulong, string)>();
        foreach (var line in stdout.Split('\n'))
        {
            var parts = line.Split(' ');
            if (parts.Length == 3 && "TtWwDdRrBb".Contains(parts[1], StringComparison.Ordinal)
                && ulong.TryParse(parts[0], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var address))
            {
                symbols.Add((address, parts[2]));
            }
        }
        return symbols;
    }
}
