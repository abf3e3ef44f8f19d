using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using VmDebug.Engine.Qmp;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Dump;

/// <summary>
/// Real processes, real signals: vmdebug dump killed (SIGKILL) and hung up (SIGHUP) while QEMU streams guest memory
/// into VmDebug's pipe and while VmDebug assembles the kdump file, and vmdebug convert likewise. A dump interrupted
/// while streaming ends QEMU's dump at once: its write into the pipe fails, query-dump says failed and the guest
/// runs again. Afterwards `ls -a` of the output directory shows no new entry (temporaries are anonymous O_TMPFILE
/// files), no guest-sized file appeared in $TMPDIR, and the next run reports nothing stale.
/// </summary>
public sealed partial class InterruptionTests
{
    private const int Sigkill = 9, Sighup = 1;
    private const int GuestMiB = 768;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private enum Phase
    {
        QemuStreaming,
        Assembling,
    }

    [Fact]
    public async Task KilledOrHungUpDumpsAndConversionsLeaveNothingAndTheGuestRunsAgain()
    {
        // Incompressible pages give the assembling phase seconds to be caught in: an empty guest's dump is all zero
        // pages, excluded at -d 1, and was once assembled between two polls; with 128 MiB a busy CI machine still missed it once.
        using var qemu = BareQemuProcess.StartOrSkip(GuestMiB, randomMiB: 384);
        var ct = TestContext.Current.CancellationToken;
        await using (var qmp = await QmpClient.ConnectAsync(qemu.QmpSocketPath, null, ct))
        {
            await qmp.ContAsync(null, ct);
        }
        using var scratch = new TempDirectory();
        var output = Directory.CreateDirectory(scratch.File("out")).FullName;
        var before = Entries(output);
        var started = DateTime.UtcNow;

        foreach (var (signal, phase) in new[] { (Sigkill, Phase.QemuStreaming), (Sigkill, Phase.Assembling), (Sighup, Phase.QemuStreaming), (Sighup, Phase.Assembling) })
        {
            var (exit, stderr) = await InterruptAsync(["dump", "--socket", qemu.QmpSocketPath, "--output", Path.Combine(output, "vmcore"), "--format", "kdump-zlib",
                "--dump-level", "1", "--json"], output, signal, phase == Phase.QemuStreaming ? 1 : 2, ct);
            Assert.Equal(before, Entries(output));
            if (signal == Sighup)
            {
                Assert.True(exit == 130, $"SIGHUP while {phase}: exit code {exit}, {stderr}");
                var error = JsonNode.Parse(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1])!["error"]!;
                Assert.Equal(phase == Phase.QemuStreaming ? "DumpCancelled" : "OperationStopped", (string?)error["id"]);
                if (phase == Phase.QemuStreaming)
                {
                    Assert.Contains("closed the pipe", (string?)error["message"]);
                }
            }
            if (phase == Phase.QemuStreaming)
            {
                // QEMU's write into the pipe failed: it ended its dump instead of writing on into nothing.
                Assert.Equal(QmpDumpState.Failed, await Dump.QmpDumpTests.DumpStateAfterAsync(qemu.QmpSocketPath, ct));
            }
            await WaitUntilGuestRunsAsync(qemu.QmpSocketPath, qemu.Pid, output, ct);
            Assert.Equal(before, Entries(output));
            AssertNoGuestSizedFileSince(Path.GetTempPath(), started, GuestMiB);
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
                converted, signal, 1, ct);
            Assert.Empty(Entries(converted));
            Assert.Equal(signal == Sighup ? 130 : 128 + Sigkill, exit);
        }
        var convert = await Support.Cli.RunAsync("convert", "--input", Path.Combine(output, "vmcore"), "--output", Path.Combine(converted, "vmcore.kdump"), "--json");
        Assert.True(convert.ExitCode == 0, convert.Stderr);
        Assert.DoesNotContain(JsonNode.Parse(convert.Stdout)!["warnings"]!.AsArray(), w => ((string?)w)!.Contains("temporary", StringComparison.Ordinal));
        Assert.Equal(["vmcore.kdump"], Entries(converted));
    }

    /// <summary>
    /// The path that classifies the paused guest's struct pages while QEMU streams (a booted guest at -d 31): pmemsave
    /// reads through this process's own pipe, so a SIGKILL mid-stream leaves no FIFO or directory in $TMPDIR either,
    /// QEMU's dump fails on the closed pipe and the guest runs again.
    /// </summary>
    [Fact]
    public async Task AKilledDumpThatClassifiesThePausedGuestLeavesNothingAndTheGuestRunsAgain()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var guest = await VmDebug.Engine.Guest.QemuGuest.StartAsync(TestEnvironment.Guest,
            new VmDebug.Engine.Guest.GuestLaunchOptions { MemoryMiB = GuestMiB, Markers = 2 }, cancellationToken: ct);
        await ProcessCoreCapture.WaitForGuestAsync(guest, ct);
        using var scratch = new TempDirectory();
        var output = Directory.CreateDirectory(scratch.File("out")).FullName;
        var started = DateTime.UtcNow;

        var (exit, stderr) = await InterruptAsync(["dump", "--socket", guest.QmpSocketPath, "--output", Path.Combine(output, "vmcore"), "--format", "kdump-zstd",
            "--dump-level", "31", "--json"], output, Sigkill, 1, ct);

        Assert.True(exit == 128 + Sigkill, $"exit code {exit}, {stderr}");
        Assert.Empty(Entries(output));
        Assert.Equal(QmpDumpState.Failed, await Dump.QmpDumpTests.DumpStateAfterAsync(guest.QmpSocketPath, ct));
        await WaitUntilGuestRunsAsync(guest.QmpSocketPath, guest.Pid, output, ct);
        Assert.Empty(DumpTemporariesSince(started));
        AssertNoGuestSizedFileSince(Path.GetTempPath(), started, GuestMiB);
    }

    /// <summary>
    /// Directories a dump made in $TMPDIR for its pipes before they were anonymous (vmdebug-pmem-*, vmdebug-dump-*):
    /// one left by a killed run would show here.
    /// </summary>
    private static string[] DumpTemporariesSince(DateTime since) =>
        new[] { "vmdebug-pmem-*", "vmdebug-dump-*" }.SelectMany(pattern => new DirectoryInfo(Path.GetTempPath()).EnumerateFileSystemInfos(pattern))
            .Where(entry => entry.CreationTimeUtc >= since).Select(entry => entry.FullName).ToArray();

    /// <summary>$TMPDIR is shared with other runs: only files modified since <paramref name="since"/> of a quarter of the guest's size or more count.</summary>
    internal static void AssertNoGuestSizedFileSince(string directory, DateTime since, int guestMiB)
    {
        var large = new DirectoryInfo(directory).EnumerateFiles().Where(f =>
        {
            try
            {
                return f.LastWriteTimeUtc >= since && f.Length >= (long)guestMiB << 18;
            }
            catch (IOException)
            {
                return false; // removed meanwhile
            }
        }).Select(f => f.FullName).ToList();
        Assert.Empty(large);
    }

    /// <summary>
    /// Starts vmdebug, waits until the phase is under way — vmdebug holds <paramref name="anonymousFiles"/> anonymous
    /// files with data in <paramref name="directory"/> (a dump's spool while QEMU streams, spool and kdump file while it
    /// assembles; a conversion's output) — then signals it and returns its exit code (128+signal when the signal killed it) and stderr.
    /// </summary>
    private static async Task<(int ExitCode, string Stderr)> InterruptAsync(string[] arguments, string directory, int signal, int anonymousFiles, CancellationToken ct)
    {
        var start = new ProcessStartInfo(Support.Cli.ProgramPath) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync(ct);
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var clock = Stopwatch.StartNew();
        while (AnonymousFilesIn(process.Id, directory, written: anonymousFiles == 1) < anonymousFiles)
        {
            if (process.HasExited)
            {
                Assert.Fail($"vmdebug finished (exit code {process.ExitCode}) before it could be interrupted: {await stdout} {await stderr} {directory}");
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
    /// <param name="written">Count only files with data.</param>
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

    /// <summary>QEMU ends the dump, holds no file of VmDebug's, and resumes the guest.</summary>
    private static async Task WaitUntilGuestRunsAsync(string qmpSocket, int qemuPid, string directory, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await using var qmp = await QmpClient.ConnectAsync(qmpSocket, null, ct);
                if ((await qmp.QueryDumpAsync(null, ct)).Status != QmpDumpState.Active && (await qmp.QueryStatusAsync(null, ct)).Running
                    && AnonymousFilesIn(qemuPid, directory) == 0)
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
