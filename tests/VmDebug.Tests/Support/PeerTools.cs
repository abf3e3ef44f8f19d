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
    /// commands go in a file (crash -i) rather than on stdin.
    /// </summary>
    public static async Task<string> CrashCommandsAsync(string vmlinux, string dump, string commands)
    {
        var (exit, stdout, stderr) = await RunCrashAsync(vmlinux, dump, commands, TimeSpan.FromMinutes(3));
        Assert.True(exit == 0, $"crash {dump} failed ({exit}): {stdout}{stderr}");
        return stdout;
    }

    /// <summary>One crash run of <paramref name="commands"/> on a dump; the caller judges the exit code.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunCrashAsync(string vmlinux, string dump, string commands, TimeSpan timeout)
    {
        var crash = TestEnvironment.RequireTool("crash", "crash");
        var input = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(dump))!, $"crash-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(input, commands + "quit\n");
        try
        {
            // crash 8.0.2 run as a direct child of the .NET test host exits 1 without a word after loading the
            // vmlinux (5 times of 5 on one test; 0 of 4 with a shell, strace or a redirecting wrapper as its parent).
            // A shell parent is how crash always runs outside tests, so it runs under one here.
            return await TestEnvironment.RunAsync("/bin/sh",
                ["-c", "\"$0\" \"$@\"", crash, "-s", "-i", input, vmlinux, dump], timeout: timeout);
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
