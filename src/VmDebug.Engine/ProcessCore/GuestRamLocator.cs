namespace VmDebug.Engine.ProcessCore;

/// <summary>
/// Finds QEMU's guest RAM among the core's mappings by size alone: a read-write, non-executable mapping of exactly
/// the RAM size the command line gives. The backend type (anonymous, memfd, file) only breaks ties, using NT_FILE
/// names. Page contents are never sampled: TCG's code buffer and untouched zero pages would fool any heuristic.
/// </summary>
internal static class GuestRamLocator
{
    public static CoreSegment Locate(IReadOnlyList<CoreSegment> segments, Func<ulong, string?> mappedFileName, GuestMemoryLayout layout,
        QemuCommandLine? commandLine, string path)
    {
        var size = layout.RamBytes;
        var candidates = segments
            .Where(s => s.MemorySize == size && s.IsReadWrite && (s.Flags & CoreSegment.Execute) == 0)
            .Where(s => layout.RamMappingAddress is not { } address || s.VirtualAddress == address)
            .ToList();
        if (candidates.Count == 0)
        {
            var where = layout.RamMappingAddress is { } address ? $" at 0x{address:x}" : "";
            throw new ProcessCoreException(ProcessCoreException.LayoutAmbiguous, ErrorKind.InvalidData, path,
                $"no read-write mapping of exactly {size} bytes ({Units.FormatBytes((long)size)}, the guest RAM size of layout '{layout}'){where} is in the core. "
                + "QEMU's RAM may be split over several backends, or its size may not be what its command line says.")
            {
                Remedy = ProcessCoreException.LayoutRemedy("with explicit ranges, e.g. '0x0-0x7fffffff@0,0x100000000-0x13fffffff@0x80000000'"),
            };
        }
        if (candidates.Count > 1)
        {
            var expected = ExpectedBacking(commandLine);
            var preferred = candidates.Where(s => expected(mappedFileName(s.VirtualAddress))).ToList();
            if (preferred.Count == 1)
            {
                return preferred[0];
            }
            var list = string.Join("; ", candidates.Select(s => $"0x{s.VirtualAddress:x} ({mappedFileName(s.VirtualAddress) ?? "anonymous"})"));
            throw new ProcessCoreException(ProcessCoreException.LayoutAmbiguous, ErrorKind.InvalidData, path,
                $"{candidates.Count} read-write mappings have exactly the guest RAM size {Units.FormatBytes((long)size)}: {list}. "
                + "VmDebug does not guess by looking at their contents.")
            {
                Remedy = ProcessCoreException.LayoutRemedy($"naming the RAM mapping, e.g. '{LayoutHint(layout)},ram=0x{candidates[0].VirtualAddress:x}'"),
            };
        }
        return candidates[0];
    }

    /// <summary>What the RAM mapping's NT_FILE name should look like for the configured backend.</summary>
    private static Func<string?, bool> ExpectedBacking(QemuCommandLine? commandLine)
    {
        var backend = commandLine?.MachineBackend;
        var memPath = backend?.MemPath ?? (backend is null ? commandLine?.MemPath : null);
        if (backend?.Type == "memory-backend-memfd")
        {
            // memfd_create names show up as "/memfd:NAME (deleted)".
            return name => name is not null && name.StartsWith("/memfd:", StringComparison.Ordinal);
        }
        if (memPath is not null)
        {
            return name => name is not null && name.StartsWith(memPath, StringComparison.Ordinal);
        }
        return name => name is null;
    }

    private static string LayoutHint(GuestMemoryLayout layout) =>
        layout.Description.StartsWith("explicit", StringComparison.Ordinal)
            ? string.Join(",", layout.Ranges.Select(r => $"0x{r.GuestPhysical:x}-0x{r.End - 1:x}@0x{r.RamOffset:x}"))
            : layout.Description.Split(':')[0];
}
