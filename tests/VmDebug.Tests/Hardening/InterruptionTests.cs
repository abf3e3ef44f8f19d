using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using VmDebug.Engine.Qmp;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Hardening;

/// <summary>
/// Real processes, real signals: vmdebug dump killed (SIGKILL) and hung up (SIGHUP) while QEMU writes and while
/// VmDebug repairs, and vmdebug convert likewise. Afterwards `ls -a` of the output directory shows no new entry
/// (temporaries are anonymous O_TMPFILE files), the guest runs again once QEMU has finished the dump it could not
/// stop, and the next run reports nothing stale.
/// </summary>
public sealed partial class InterruptionTests
{
    private const int Sigkill = 9, Sighup = 1;
    private const int GuestMiB = 768;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private enum Phase
    {
        QemuWriting,
        Repairing,
    }

    [Fact]
    public async Task KilledOrHungUpDumpsAndConversionsLeaveNothingAndTheGuestRunsAgain()
    {
        using var qemu = BareQemuProcess.StartOrSkip(GuestMiB);
        var ct = TestContext.Current.CancellationToken;
        await using (var qmp = await QmpClient.ConnectAsync(qemu.QmpSocketPath, null, ct))
        {
            await qmp.ContAsync(null, ct);
        }
        using var scratch = new TempDirectory();
        var output = Directory.CreateDirectory(scratch.File("out")).FullName;
        var before = Entries(output);

        foreach (var (signal, phase) in new[] { (Sigkill, Phase.QemuWriting), (Sigkill, Phase.Repairing), (Sighup, Phase.QemuWriting), (Sighup, Phase.Repairing) })
        {
            var (exit, stderr) = await InterruptAsync(["dump", "--socket", qemu.QmpSocketPath, "--output", Path.Combine(output, "vmcore"), "--format", "elf", "--json"],
                output, signal, phase == Phase.QemuWriting ? qemu.Pid : null, ct);
            Assert.Equal(before, Entries(output));
            if (signal == Sighup)
            {
                Assert.True(exit == 130, $"SIGHUP while {phase}: exit code {exit}, {stderr}");
                var error = JsonNode.Parse(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1])!["error"]!;
                Assert.Equal(phase == Phase.QemuWriting ? "DumpCancelled" : "OperationStopped", (string?)error["id"]);
                if (phase == Phase.QemuWriting)
                {
                    Assert.Matches(@"goes on writing \d+(\.\d+)? [KMG]i?B more", (string?)error["message"]);
                }
            }
            await WaitUntilGuestRunsAsync(qemu, output, ct);
            Assert.Equal(before, Entries(output));
        }

        // The next run works and reports nothing stale; its vmcore is the only new entry.
        var (dumpExit, dumpOut, dumpErr) = await Support.Cli.RunAsync("dump", "--socket", qemu.QmpSocketPath, "--output", Path.Combine(output, "vmcore"), "--format", "elf", "--json");
        Assert.True(dumpExit == 0, dumpErr);
        Assert.DoesNotContain(JsonNode.Parse(dumpOut)!["warnings"]!.AsArray(), w => ((string?)w)!.Contains("temporary", StringComparison.Ordinal));
        Assert.Equal(before.Append("vmcore").Order(StringComparer.Ordinal).ToArray(), Entries(output));

        var converted = Directory.CreateDirectory(scratch.File("converted")).FullName;
        foreach (var signal in new[] { Sigkill, Sighup })
        {
            var (exit, _) = await InterruptAsync(["convert", "--input", Path.Combine(output, "vmcore"), "--output", Path.Combine(converted, "vmcore.kdump"), "--format", "kdump-zlib", "--json"],
                converted, signal, null, ct);
            Assert.Empty(Entries(converted));
            Assert.Equal(signal == Sighup ? 130 : 128 + Sigkill, exit);
        }
        var convert = await Support.Cli.RunAsync("convert", "--input", Path.Combine(output, "vmcore"), "--output", Path.Combine(converted, "vmcore.kdump"), "--json");
        Assert.True(convert.ExitCode == 0, convert.Stderr);
        Assert.DoesNotContain(JsonNode.Parse(convert.Stdout)!["warnings"]!.AsArray(), w => ((string?)w)!.Contains("temporary", StringComparison.Ordinal));
        Assert.Equal(["vmcore.kdump"], Entries(converted));
    }

    /// <summary>
    /// Starts vmdebug, waits until the phase is under way — QEMU (<paramref name="qemuPid"/>) holds an anonymous file
    /// in <paramref name="directory"/>, or, with no QEMU named, vmdebug itself holds one (two for a dump's repair) —
    /// then signals it and returns its exit code (128+signal when the signal killed it) and stderr.
    /// </summary>
    private static async Task<(int ExitCode, string Stderr)> InterruptAsync(string[] arguments, string directory, int signal, int? qemuPid, CancellationToken ct)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(Support.Cli.ProgramPath);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync(ct);
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var watched = qemuPid ?? process.Id;
        var wanted = qemuPid is null && arguments[0] == "dump" ? 2 : 1;
        var clock = Stopwatch.StartNew();
        while (AnonymousFilesIn(watched, directory, written: qemuPid is not null) < wanted)
        {
            if (process.HasExited)
            {
                var seen = string.Join(",", Directory.GetFileSystemEntries($"/proc/{watched}/fd").Select(f => new FileInfo(f).LinkTarget));
                Assert.Fail($"vmdebug finished (exit code {process.ExitCode}) before it could be interrupted: {await stdout} {await stderr} {seen} {directory}");
            }
            Assert.True(clock.Elapsed < Patience, $"vmdebug {arguments[0]} did not reach the phase to interrupt");
            await Task.Delay(5, ct);
        }
        Assert.Equal(0, Kill(process.Id, signal));
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(Patience);
        await process.WaitForExitAsync(limit.Token);
        return (process.ExitCode, await stderr);
    }

    /// <summary>What `ls -a` shows, without "." and "..", sorted.</summary>
    private static string[] Entries(string directory) =>
        Directory.GetFileSystemEntries(directory).Select(Path.GetFileName).Cast<string>().Order(StringComparer.Ordinal).ToArray();

    /// <summary>Open descriptors of <paramref name="pid"/> on unnamed (O_TMPFILE) files in <paramref name="directory"/>: "DIR/#INODE (deleted)".</summary>
    /// <param name="written">Count only files with data: QEMU holds the descriptor from getfd on, before its dump starts.</param>
    private static int AnonymousFilesIn(int pid, string directory, bool written = false)
    {
        try
        {
            return Directory.GetFileSystemEntries($"/proc/{pid}/fd").Count(fd =>
            {
                var target = new FileInfo(fd).LinkTarget;
                return target is not null && target.StartsWith(directory + "/#", StringComparison.Ordinal) && target.EndsWith(" (deleted)", StringComparison.Ordinal)
                    && (!written || VmDebug.Engine.Files.UnixFile.Stat(fd)?.Size > 0);
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0; // gone or fds closing meanwhile
        }
    }

    /// <summary>QEMU finishes the dump nobody can stop, closes the anonymous file (its space is then freed), and resumes the guest.</summary>
    private static async Task WaitUntilGuestRunsAsync(BareQemuProcess qemu, string directory, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await using var qmp = await QmpClient.ConnectAsync(qemu.QmpSocketPath, null, ct);
                if ((await qmp.QueryDumpAsync(null, ct)).Status != QmpDumpState.Active && (await qmp.QueryStatusAsync(null, ct)).Running
                    && AnonymousFilesIn(qemu.Pid, directory) == 0)
                {
                    return;
                }
            }
            catch (QmpException) when (clock.Elapsed < Patience)
            {
                // The killed client's connection may not be closed yet.
            }
            Assert.True(clock.Elapsed < Patience, "the guest did not run again after the interrupted dump");
            await Task.Delay(100, ct);
        }
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);
}
