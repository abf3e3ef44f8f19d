using System.Diagnostics;
using VmDebug.Engine.Libvirt;
using VmDebug.Engine.Qmp;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.Dump;

/// <summary>
/// Invoke-GuestMemoryDump / vmdebug dump: has QEMU (directly over QMP, or through libvirt) write guest memory,
/// repairs what QEMU gets wrong so crash and makedumpfile read the file, and only then gives it its final name.
/// </summary>
public static class GuestMemoryDumper
{
    public static async Task<GuestMemoryDump> DumpAsync(DumpRequest request, IProgress<OperationProgress> progress, CancellationToken cancellationToken)
    {
        if ((request.QmpSocket is null) == (request.Domain is null))
        {
            throw new VmDebugException("DumpTargetAmbiguous", ErrorKind.InvalidArgument,
                "Give exactly one target: a QMP socket or a libvirt domain.", request.QmpSocket ?? request.Domain);
        }

        var clock = Stopwatch.StartNew();
        // A directory destination names each dump after its guest; only then is the guest's PID looked up.
        var destination = request.Destination ?? new DumpDestination(request.Path);
        var path = destination.PathFor(destination.IsDirectory ? Subject(request) : "", request.Format);
        using var output = DumpOutputFile.Prepare(path, request.Force);
        try
        {
            return await DumpIntoAsync(request, output, clock, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (output.Retell(e) is { } retold)
        {
            throw retold;
        }
    }

    private static async Task<GuestMemoryDump> DumpIntoAsync(DumpRequest request, DumpOutputFile output, Stopwatch clock,
        IProgress<OperationProgress> progress, CancellationToken cancellationToken)
    {
        var target = request.QmpSocket ?? request.Domain!;
        var activity = $"Dumping guest memory of {target}";
        string raw;
        if (request.QmpSocket is { } socket)
        {
            raw = await DumpOverQmpAsync(socket, request.Format, output, activity, progress, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            raw = output.ReserveTemporaryPath("raw");
            // libvirt would otherwise wait 30 s for the domain's job lock before refusing a second dump.
            using var guestLock = GuestDumpLock.Acquire($"libvirt:{request.ConnectionUri}#{request.Domain}");
            await LibvirtDumpOperation.DumpAsync(request.ConnectionUri, request.Domain!, raw, ToLibvirt(request.Format), progress, cancellationToken)
                .ConfigureAwait(false);
        }

        progress.Report(new OperationProgress(activity, "Repairing the dump for crash and makedumpfile"));
        IReadOnlyList<VmcoreRepair> repairs;
        string repairedPath;
        await using (var repaired = output.CreateTemporary("repaired"))
        {
            repairedPath = repaired.Name;
            repairs = await VmcoreRepairer.RepairAsync(raw, repaired, progress, cancellationToken).ConfigureAwait(false);
            repaired.Flush(flushToDisk: true);
        }

        File.Delete(raw);
        var dump = Summarize(repairedPath, output.Path, request, repairs, clock);
        output.Commit(repairedPath);
        progress.Report(new OperationProgress(activity, "Done", 100, Completed: true));
        return dump;
    }

    private static async Task<string> DumpOverQmpAsync(string socket, DumpFormat format, DumpOutputFile output, string activity,
        IProgress<OperationProgress> progress, CancellationToken cancellationToken)
    {
        using var guestLock = GuestDumpLock.Acquire(socket);
        await using var client = await QmpClient.ConnectAsync(socket, null, cancellationToken).ConfigureAwait(false);
        await QmpDumpSource.CheckAsync(client, format, cancellationToken).ConfigureAwait(false);
        if (format == DumpFormat.WinDmp)
        {
            await WindowsDumpCheck.RequireWindowsDumpHeaderAsync(client, output, cancellationToken).ConfigureAwait(false);
        }

        await using var raw = output.CreateTemporary("raw");
        await QmpDumpSource.DumpAsync(client, format, raw, activity, progress, cancellationToken).ConfigureAwait(false);
        return raw.Name;
    }

    /// <summary>What a generated file name starts with: the domain, or the PID of the QEMU listening on the QMP socket.</summary>
    private static string Subject(DumpRequest request) =>
        request.Domain
        ?? HostConfig.UnixSocketPeer.TryGetListenerProcessId(request.QmpSocket!)?.ToString(System.Globalization.CultureInfo.InvariantCulture)
        ?? System.IO.Path.GetFileNameWithoutExtension(request.QmpSocket!);

    private static LibvirtDumpFormat ToLibvirt(DumpFormat format) => format switch
    {
        DumpFormat.Elf => LibvirtDumpFormat.Raw,
        DumpFormat.KdumpZlib => LibvirtDumpFormat.KdumpZlib,
        DumpFormat.KdumpLzo => LibvirtDumpFormat.KdumpLzo,
        DumpFormat.KdumpSnappy => LibvirtDumpFormat.KdumpSnappy,
        DumpFormat.WinDmp => LibvirtDumpFormat.WinDmp,
        DumpFormat.KdumpZstd => throw new VmDebugException("DumpFormatUnsupported", ErrorKind.InvalidArgument,
            "libvirt and QEMU cannot write zstd dumps.", format)
        {
            Remedy = DumpFormats.ConvertRemedy(DumpFormat.KdumpZstd, DumpFormat.Elf, DumpFormat.KdumpZlib),
        },
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    /// <summary>Describes the finished temporary <paramref name="written"/> under the name it is about to get.</summary>
    private static GuestMemoryDump Summarize(string written, string finalPath, DumpRequest request, IReadOnlyList<VmcoreRepair> repairs, Stopwatch clock)
    {
        var summary = VmcoreFile.Describe(written);
        var warnings = new List<string>();
        if (!summary.HasVmcoreInfo && request.Format != DumpFormat.WinDmp)
        {
            warnings.Add("The guest gave no VMCOREINFO, so crash and makedumpfile cannot find the kernel's symbols in this dump. "
                + "Likely cause: the guest has no vmcoreinfo device (QEMU -device vmcoreinfo; libvirt <features><vmcoreinfo state='on'/>) "
                + "or its kernel did not load the qemu_fw_cfg module (needs Linux 4.17+ with CONFIG_FW_CFG_SYSFS).");
        }

        return new GuestMemoryDump
        {
            Path = finalPath,
            Format = request.Format,
            Source = request.QmpSocket is null ? DumpSource.Libvirt : DumpSource.Qmp,
            Target = request.QmpSocket ?? request.Domain!,
            Domain = request.Domain,
            SizeBytes = summary.FileBytes,
            GuestRamBytes = summary.RamBytes,
            Duration = clock.Elapsed,
            KernelRelease = summary.OsRelease,
            PhysBase = summary.PhysBase,
            Repairs = repairs,
            Warnings = warnings,
        };
    }
}
