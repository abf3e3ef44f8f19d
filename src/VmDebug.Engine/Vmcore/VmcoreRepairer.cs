using System.Buffers.Binary;

namespace VmDebug.Engine.Vmcore;

/// <summary>
/// Turns QEMU's dump output into files makedumpfile and crash read as is: reassembles flattened streams into
/// seekable kdump files, writes VMCOREINFO's phys_base and OSRELEASE into the kdump header, and moves QEMU's
/// ELF program headers (at 192, after the section headers) to offset 64 where makedumpfile 1.7 looks for them.
/// </summary>
public static class VmcoreRepairer
{
    public const string FlattenedReassembled = "FlattenedReassembled";
    public const string PhysBaseCorrected = "PhysBaseCorrected";
    public const string UtsReleaseFilled = "UtsReleaseFilled";
    public const string ElfHeaderRelaidOut = "ElfHeaderRelaidOut";

    private const int CopyChunk = 1 << 20;

    /// <summary>
    /// Repairs <paramref name="inputPath"/> into a new file at <paramref name="outputPath"/> (created exclusively,
    /// mode 0600, written under a temporary name and renamed when complete). Returns the repairs applied; a file
    /// that needs none is copied unchanged and the list is empty.
    /// </summary>
    public static async Task<IReadOnlyList<VmDebug.VmcoreRepair>> RepairAsync(string inputPath, string outputPath,
        IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        if (File.Exists(outputPath) || Directory.Exists(outputPath))
        {
            throw new VmDebugException("VmcoreOutputExists", ErrorKind.ResourceExists, $"{outputPath}: the output file already exists.", outputPath);
        }
        using var output = Dump.DumpOutputFile.Prepare(outputPath, force: false);
        var stream = output.CreateTemporary("repaired");
        var repairs = await RepairAsync(inputPath, stream, progress, cancellationToken).ConfigureAwait(false);
        output.Commit(stream);
        return repairs;
    }

    /// <summary>Writes the repaired dump to <paramref name="output"/> (seekable; the caller owns it).</summary>
    public static async Task<IReadOnlyList<VmDebug.VmcoreRepair>> RepairAsync(string inputPath, Stream output,
        IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!output.CanSeek || !output.CanWrite)
        {
            throw new ArgumentException("the output stream must be writable and seekable", nameof(output));
        }
        using var reader = VmcoreFile.Open(inputPath);
        var repairs = Plan(reader);
        var bytes = reader.Bytes;
        var reporter = new ProgressReporter(progress, $"Repairing {inputPath}", bytes.Length);
        switch (reader)
        {
            case KdumpReader kdump:
                await CopySparseAsync(bytes, 0, bytes.Length, output, 0, reporter, cancellationToken).ConfigureAwait(false);
                await PatchKdumpHeaderAsync(kdump, repairs, output, cancellationToken).ConfigureAwait(false);
                output.SetLength(bytes.Length);
                break;
            case ElfVmcoreReader elf when repairs.Any(r => r.Code == ElfHeaderRelaidOut):
                await RelayoutElfAsync(elf.Layout, bytes, output, reporter, cancellationToken).ConfigureAwait(false);
                break;
            default:
                await CopySparseAsync(bytes, 0, bytes.Length, output, 0, reporter, cancellationToken).ConfigureAwait(false);
                output.SetLength(bytes.Length);
                break;
        }
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        reporter.Complete("Done", bytes.Length);
        return repairs;
    }

    /// <summary>The repairs <paramref name="reader"/>'s file needs, without changing anything.</summary>
    public static IReadOnlyList<VmDebug.VmcoreRepair> Plan(VmcoreReader reader)
    {
        var repairs = new List<VmDebug.VmcoreRepair>();
        if (reader.Format is VmcoreFormat.FlattenedKdump or VmcoreFormat.FlattenedElf)
        {
            repairs.Add(new(FlattenedReassembled, "Reassembled the makedumpfile flattened stream into a seekable file (as `makedumpfile -R` does)."));
        }
        var info = reader.VmcoreInfo;
        if (reader is KdumpReader kdump)
        {
            if (info?.PhysBase is long physBase && physBase != kdump.HeaderPhysBase)
            {
                repairs.Add(new(PhysBaseCorrected,
                    $"Set the sub-header phys_base from 0x{kdump.HeaderPhysBase:x} to VMCOREINFO's NUMBER(phys_base) {physBase} (0x{physBase:x})."));
            }
            if (info?.OsRelease is { Length: > 0 } release && release != kdump.Release)
            {
                repairs.Add(new(UtsReleaseFilled, $"Set the header's utsname release from '{kdump.Release}' to VMCOREINFO's OSRELEASE '{release}'."));
            }
        }
        else if (reader is ElfVmcoreReader elf && (elf.Layout.ProgramHeaderOffset != ElfLayout.EhdrSize || elf.Layout.HeaderSize != ElfLayout.EhdrSize))
        {
            repairs.Add(new(ElfHeaderRelaidOut,
                $"Moved the program headers from offset {elf.Layout.ProgramHeaderOffset} to {ElfLayout.EhdrSize} right after the ELF header "
                + $"(e_ehsize {elf.Layout.HeaderSize} -> {ElfLayout.EhdrSize}) and dropped the section headers."));
        }
        return repairs;
    }

    private static async Task PatchKdumpHeaderAsync(KdumpReader kdump, IReadOnlyList<VmDebug.VmcoreRepair> repairs, Stream output,
        CancellationToken cancellationToken)
    {
        var info = kdump.VmcoreInfo;
        if (repairs.Any(r => r.Code == PhysBaseCorrected) && info?.PhysBase is long physBase)
        {
            var value = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(value, physBase);
            output.Seek(kdump.PageSize + KdumpLayout.SubPhysBase, SeekOrigin.Begin);
            await output.WriteAsync(value, cancellationToken).ConfigureAwait(false);
        }
        if (repairs.Any(r => r.Code == UtsReleaseFilled) && info?.OsRelease is { } release)
        {
            var header = new byte[KdumpLayout.DiskDumpHeaderSize];
            DiskDumpHeader.WriteUtsField(header, KdumpLayout.UtsRelease, release);
            output.Seek(KdumpLayout.UtsRelease, SeekOrigin.Begin);
            await output.WriteAsync(header.AsMemory(KdumpLayout.UtsRelease, KdumpLayout.UtsFieldSize), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Writes new headers at the front and the segments after them. When the new headers fit before the first
    /// segment (always so for QEMU's layout) segment offsets stay as they are and the data is copied verbatim.
    /// </summary>
    private static async Task RelayoutElfAsync(ElfLayout layout, DumpByteSource bytes, Stream output, ProgressReporter reporter,
        CancellationToken cancellationToken)
    {
        var segments = layout.ProgramHeaders.Where(p => p.FileSize > 0).ToList();
        var extended = layout.ProgramHeaders.Length >= ElfLayout.PnXnum;
        var headerBytes = ElfLayout.EhdrSize + (long)layout.ProgramHeaders.Length * ElfProgramHeader.Size + (extended ? ElfLayout.ShdrSize : 0);
        var dataStart = segments.Count == 0 ? headerBytes : (long)segments.Min(p => p.Offset);
        var dataEnd = segments.Count == 0 ? headerBytes : (long)segments.Max(p => p.Offset + p.FileSize);
        var shift = dataStart >= headerBytes ? 0 : FileAlignment.AlignUp(headerBytes - dataStart, 4096);
        var moved = layout.ProgramHeaders
            .Select(p => p.FileSize > 0 || p.Offset >= (ulong)dataStart ? p with { Offset = p.Offset + (ulong)shift } : p)
            .ToList();
        var header = ElfVmcoreWriter.BuildHeaders(moved, extended, layout.Machine);
        output.Seek(0, SeekOrigin.Begin);
        await output.WriteAsync(header, cancellationToken).ConfigureAwait(false);
        // What lies between the new headers and the data stays a hole of the new file: zeros, no old header remnants.
        await CopySparseAsync(bytes, dataStart, dataEnd, output, dataStart + shift, reporter, cancellationToken).ConfigureAwait(false);
        output.SetLength(dataEnd + shift);
    }

    /// <summary>Copies [from, to) of the source to <paramref name="target"/>, leaving all-zero chunks as holes.</summary>
    private static async Task CopySparseAsync(DumpByteSource source, long from, long to, Stream output, long target, ProgressReporter reporter,
        CancellationToken cancellationToken)
    {
        // Only the runs the source stores: a flattened stream's one record at a huge offset costs one record, not the gap.
        var buffer = new byte[CopyChunk];
        foreach (var (start, end) in source.DataRuns(from, to))
        {
            for (var offset = start; offset < end; offset += CopyChunk)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var length = (int)Math.Min(CopyChunk, end - offset);
                var chunk = buffer.AsMemory(0, length);
                source.ReadExactly(offset, chunk.Span, "dump data");
                if (chunk.Span.ContainsAnyExcept((byte)0))
                {
                    output.Seek(target + (offset - from), SeekOrigin.Begin);
                    await output.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
                }
                reporter.Report("Copying", offset + length);
            }
        }
    }
}
