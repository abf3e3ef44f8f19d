using System.Diagnostics;
using VmDebug.Engine;
using VmDebug.Engine.Dump;
using VmDebug.Engine.Guest;
using VmDebug.Engine.Panic;
using VmDebug.Engine.Qmp;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Tests.Support;

/// <summary>Makes real process cores: QEMU guests (or any program) killed with SIGABRT under RLIMIT_CORE unlimited.</summary>
internal static class ProcessCoreCapture
{
    public const int Sigabrt = 6;

    /// <summary>
    /// The kernel must write plain core files into the process's working directory (core_pattern "core", as here
    /// and on most hosts without systemd-coredump); a piped pattern would send the cores elsewhere.
    /// </summary>
    public static void RequirePlainCorePattern()
    {
        var pattern = File.ReadAllText("/proc/sys/kernel/core_pattern").Trim();
        Assert.True(!pattern.StartsWith('|') && !pattern.Contains('/'),
            $"/proc/sys/kernel/core_pattern is '{pattern}': these tests need cores written into the working directory (e.g. 'core').");
    }

    /// <summary>The core a process with <paramref name="pid"/> left in <paramref name="directory"/> ("core" or "core.PID").</summary>
    public static string FindCore(string directory, int pid)
    {
        foreach (var name in new[] { "core", $"core.{pid}" })
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path))
            {
                return path;
            }
        }
        Assert.Fail($"no core file of PID {pid} in {directory}: {string.Join(", ", Directory.GetFiles(directory).Select(Path.GetFileName))}");
        return "";
    }

    /// <summary>Waits until the guest has written its marker lines to the console (or panicked, with a panic configured).</summary>
    public static async Task WaitForGuestAsync(QemuGuest guest, CancellationToken ct)
    {
        if (guest.Options.PanicAfterSeconds is not null)
        {
            await GuestPanicWatcher.WaitAsync(guest.QmpSocketPath, TimeSpan.FromSeconds(120), ct);
            return;
        }
        var clock = Stopwatch.StartNew();
        var last = $"vmdebug marker {guest.Options.Markers}";
        while (!guest.ReadConsole().Contains(last, StringComparison.Ordinal))
        {
            Assert.False(guest.HasExited, $"QEMU exited: {guest.ReadStderrTail()}");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(120), $"the guest did not print '{last}' within 120 s");
            await Task.Delay(100, ct);
        }
    }

    /// <summary>Pauses the guest so QMP dump and process core show the same memory.</summary>
    public static async Task PauseAsync(QemuGuest guest, CancellationToken ct)
    {
        await using var qmp = await QmpClient.ConnectAsync(guest.QmpSocketPath, null, ct);
        await qmp.StopAsync(null, ct);
    }

    public static Task<GuestMemoryDump> QmpDumpAsync(QemuGuest guest, string path, DumpFormat format, CancellationToken ct) =>
        GuestMemoryDumper.DumpAsync(new DumpRequest { QmpSocket = guest.QmpSocketPath, Path = path, Format = format }, NoProgress, ct);

    /// <summary>Kills QEMU with SIGABRT and returns its core.</summary>
    public static async Task<string> AbortAsync(QemuGuest guest, CancellationToken ct)
    {
        var pid = guest.Pid;
        guest.Signal(Sigabrt);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(120));
        await guest.WaitForExitAsync(timeout.Token);
        return FindCore(guest.WorkDirectory, pid);
    }

    /// <summary>Runs <paramref name="program"/> in <paramref name="directory"/> with cores enabled, aborts it, returns the core.</summary>
    public static async Task<string> AbortProgramAsync(string directory, string program, params string[] arguments)
    {
        var start = new ProcessStartInfo("/bin/sh") { WorkingDirectory = directory, UseShellExecute = false, RedirectStandardInput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"ulimit -c unlimited; exec {program} \"$@\" >/dev/null 2>&1 </dev/null");
        start.ArgumentList.Add(program);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        try
        {
            await Task.Delay(500);
            if (process.HasExited)
            {
                Assert.Fail($"{program} exited before it could be aborted (exit code {process.ExitCode})");
            }
            Assert.Equal(0, Kill(process.Id, Sigabrt));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            return FindCore(directory, process.Id);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }

    /// <summary>
    /// Compares every guest-physical page of <paramref name="reference"/> with <paramref name="extracted"/>. Returns
    /// the pages compared, the mismatching page frames, and the frames only one side has.
    /// </summary>
    public static (long Compared, List<ulong> Mismatches, List<ulong> OnlyInReference, List<ulong> OnlyExtracted) ComparePages(
        IGuestMemorySource reference, IGuestMemorySource extracted)
    {
        var referenceFrames = Frames(reference).ToHashSet();
        var extractedFrames = Frames(extracted).ToHashSet();
        var common = referenceFrames.Intersect(extractedFrames).Order().ToArray();
        var mismatches = new System.Collections.Concurrent.ConcurrentBag<ulong>();
        Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(0, common.Length, 4096), new ParallelOptions { MaxDegreeOfParallelism = 2 }, span =>
        {
            var a = new byte[4096];
            var b = new byte[4096];
            for (var i = span.Item1; i < span.Item2; i++)
            {
                reference.ReadPage(common[i], a);
                extracted.ReadPage(common[i], b);
                if (!a.AsSpan().SequenceEqual(b))
                {
                    mismatches.Add(common[i]);
                }
            }
        });
        return (common.Length, mismatches.Order().ToList(), referenceFrames.Except(extractedFrames).Order().ToList(),
            extractedFrames.Except(referenceFrames).Order().ToList());
    }

    private static IEnumerable<ulong> Frames(IGuestMemorySource source)
    {
        foreach (var range in source.Ranges)
        {
            for (var pfn = range.Start / 4096; pfn * 4096 < range.End; pfn++)
            {
                yield return pfn;
            }
        }
    }

    public static readonly IProgress<OperationProgress> NoProgress = new CallbackProgress<OperationProgress>(_ => { });

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
