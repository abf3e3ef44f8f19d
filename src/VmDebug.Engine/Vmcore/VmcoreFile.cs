namespace VmDebug.Engine.Vmcore;

/// <summary>Opens any supported dump file by sniffing its format.</summary>
public static class VmcoreFile
{
    /// <summary>
    /// Opens <paramref name="path"/> as an ELF vmcore, a seekable kdump file, or a flattened stream of either
    /// (indexed in one pass, never loaded). The result reads pages on demand and is safe for parallel ReadPage.
    /// </summary>
    public static VmcoreReader Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = OpenBytes(path, out var flattened);
        try
        {
            var inner = Sniff(bytes);
            return inner switch
            {
                VmcoreFormat.Elf => new ElfVmcoreReader(bytes, flattened ? VmcoreFormat.FlattenedElf : VmcoreFormat.Elf),
                _ => new KdumpReader(bytes, flattened ? VmcoreFormat.FlattenedKdump : VmcoreFormat.Kdump),
            };
        }
        catch
        {
            bytes.Dispose();
            throw;
        }
    }

    /// <summary>Summarises a dump: format, ranges, RAM, VMCOREINFO facts and what <see cref="VmcoreRepairer"/> would fix.</summary>
    public static VmDebug.VmcoreSummary Describe(string path)
    {
        using var reader = Open(path);
        var info = reader.VmcoreInfo;
        var kdump = reader as KdumpReader;
        return new VmDebug.VmcoreSummary
        {
            Path = Path.GetFullPath(path),
            Format = reader.Format,
            FileBytes = Files.UnixFile.Stat(path)?.Size ?? 0, // stat follows /proc/self/fd links to the file itself
            PageSize = reader.PageSize,
            Ranges = reader.Ranges.ToArray(),
            RamBytes = reader.Ranges.Aggregate(0UL, (sum, r) => sum + r.Length),
            DumpedPages = kdump?.DumpedPageCount,
            HasVmcoreInfo = info is not null,
            OsRelease = info?.OsRelease ?? (kdump is { Release.Length: > 0 } ? kdump.Release : null),
            PhysBase = info?.PhysBase,
            HeaderPhysBase = kdump?.HeaderPhysBase,
            NoteCount = reader.Notes.Count,
            NeededRepairs = VmcoreRepairer.Plan(reader).Select(r => r.Code).ToArray(),
        };
    }

    internal static DumpByteSource OpenBytes(string path, out bool flattened)
    {
        DumpByteSource bytes = new FileByteSource(path);
        flattened = false;
        try
        {
            Span<byte> head = stackalloc byte[16];
            var n = bytes.Read(0, head);
            if (FlattenedByteSource.HasSignature(head[..n]))
            {
                flattened = true;
                return FlattenedByteSource.Open(bytes);
            }
            return bytes;
        }
        catch
        {
            bytes.Dispose();
            throw;
        }
    }

    internal static VmcoreFormat Sniff(DumpByteSource bytes)
    {
        Span<byte> head = stackalloc byte[16];
        var n = bytes.Read(0, head);
        head = head[..n];
        if (ElfLayout.HasSignature(head))
        {
            return VmcoreFormat.Elf;
        }
        if (head.StartsWith(KdumpLayout.Signature))
        {
            return VmcoreFormat.Kdump;
        }
        if (head.StartsWith("DISKDUMP"u8))
        {
            throw new VmcoreFormatException(bytes.Path, 0, "old DISKDUMP (netdump era) files are not supported; only KDUMP");
        }
        throw new VmcoreFormatException(bytes.Path, 0, n == 0 ? "the file is empty" : "not an ELF vmcore, kdump file or makedumpfile flattened stream");
    }
}
