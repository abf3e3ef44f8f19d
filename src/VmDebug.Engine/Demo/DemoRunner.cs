using System.Diagnostics;
using VmDebug.Engine.Dump;
using VmDebug.Engine.Guest;
using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.KernelLog;
using VmDebug.Engine.Panic;
using VmDebug.Engine.Qmp;

namespace VmDebug.Engine.Demo;

/// <summary>
/// The main job end to end on an embedded default: build the test guest if needed, boot it under TCG,
/// wait for its panic over QMP, dump it as kdump-zlib (repaired for crash and makedumpfile), and report why it died
/// (panic message, crashing task, first call-trace frames) as read back from the dump itself.
/// </summary>
public static class DemoRunner
{
    public static async Task<DemoReport> RunAsync(string? guestDirectory, IProgress<OperationProgress> progress, CancellationToken cancellationToken)
    {
        const string activity = "vmdebug demo";
        var clock = Stopwatch.StartNew();
        progress.Report(new OperationProgress(activity, "Building the test guest from Debian packages (cached)"));
        var image = guestDirectory is not null
            ? GuestImage.Load(guestDirectory)
            : GuestImage.Build(
                GuestImage.FindBuildScript(AppContext.BaseDirectory) ?? throw new VmDebugException("GuestBuildScriptMissing",
                    ErrorKind.ObjectNotFound, "Cannot find scripts/build-guest.sh above the vmdebug program; pass --guest-dir.", AppContext.BaseDirectory),
                debugSymbols: false);
        var guestBuild = clock.Elapsed;

        var options = new GuestLaunchOptions { MemoryMiB = 512, Markers = 3, PanicAfterSeconds = 1 };
        progress.Report(new OperationProgress(activity, $"Booting {image.Release} under TCG ({options.MemoryMiB} MiB)"));
        clock.Restart();
        await using var guest = await QemuGuest.StartAsync(image, options, cancellationToken: cancellationToken).ConfigureAwait(false);
        var qmp = await QmpClient.ConnectAsync(guest.QmpSocketPath, null, cancellationToken).ConfigureAwait(false);
        var qemuStart = clock.Elapsed;

        progress.Report(new OperationProgress(activity, "Waiting for the guest to panic (GUEST_PANICKED over QMP)"));
        GuestPanicEvent panic;
        string qemuVersion;
        await using (qmp)
        {
            panic = await GuestPanicWatcher.WaitAsync(qmp, TimeSpan.FromSeconds(120), clock, cancellationToken).ConfigureAwait(false);
            qemuVersion = qmp.Greeting.Version.ToString();
        }

        var bootToPanic = clock.Elapsed - qemuStart;

        // The watcher's QMP connection is closed above: QEMU serves one client at a time and the dump opens its own.
        progress.Report(new OperationProgress(activity, "Dumping the panicked guest as kdump-zlib"));
        var dumpDirectory = Directory.CreateTempSubdirectory("vmdebug-demo-").FullName;
        var dump = await GuestMemoryDumper.DumpAsync(
            new DumpRequest { QmpSocket = guest.QmpSocketPath, Path = Path.Combine(dumpDirectory, "vmcore.kdump"), Format = DumpFormat.KdumpZlib },
            progress, cancellationToken).ConfigureAwait(false);
        progress.Report(new OperationProgress(activity, "Reading why the guest died from the dump"));
        var crash = await GuestCrashAnalyzer.ReadAsync(new GuestKernelTarget { Path = dump.Path }, cancellationToken).ConfigureAwait(false);
        progress.Report(new OperationProgress(activity, "Done", 100, Completed: true));

        return new DemoReport
        {
            KernelRelease = image.Release,
            QemuVersion = qemuVersion,
            GuestMemoryMiB = options.MemoryMiB,
            GuestBuild = guestBuild,
            QemuStart = qemuStart,
            BootToPanic = bootToPanic,
            Panic = panic,
            Dump = dump,
            PanicMessage = crash.PanicMessage,
            CrashingTask = crash.Pid is null ? null : $"CPU {crash.Cpu} PID {crash.Pid} {crash.Comm}",
            CallTrace = crash.CallTrace.Take(6).Select(f => f.ToString()).ToList(),
        };
    }
}
