using System.Buffers.Binary;
using System.Text;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.ProcessCore;

/// <summary>One PT_LOAD of a process core: a mapping of the dumped process and where its bytes are in the file.</summary>
internal readonly record struct CoreSegment(ulong VirtualAddress, ulong MemorySize, long FileOffset, ulong FileSize, uint Flags)
{
    public const uint Read = 4, Write = 2, Execute = 1;

    public ulong End => VirtualAddress + MemorySize;
    public bool IsReadWrite => (Flags & (Read | Write)) == (Read | Write);
}

/// <summary>An NT_FILE entry: a file-backed mapping (memfd RAM shows up as "/memfd:NAME (deleted)").</summary>
internal readonly record struct MappedFile(ulong Start, ulong End, ulong FileOffset, string Name);

/// <summary>
/// An ELF64 x86_64 process core as the Linux kernel writes it (fs/binfmt_elf.c): PT_LOADs per mapping,
/// NT_PRSTATUS/NT_PRPSINFO/NT_SIGINFO/NT_AUXV/NT_FILE notes. Every length and count is bounded; the file is untrusted.
/// </summary>
internal sealed class ProcessCoreFile : IDisposable
{
    // Note types (include/uapi/linux/elf.h).
    private const uint NtPrstatus = 1, NtPrpsinfo = 3, NtAuxv = 6, NtSiginfo = 0x53494749, NtFile = 0x46494c45;
    private const ulong AtNull = 0, AtExecfn = 31;
    private const ushort EmX8664 = 62;
    private const int MaxArguments = 65536;
    private const int MaxArgumentBytes = 2 * 1024 * 1024; // bound on the total argv text; Linux allows far less by default
    private const int MaxMappedFiles = 1 << 20;

    private readonly SparseFile _file;
    private readonly CoreSegment[] _segments; // sorted by virtual address

    private ProcessCoreFile(SparseFile file, CoreSegment[] segments, IReadOnlyList<ElfNote> notes)
    {
        _file = file;
        _segments = segments;
        Notes = notes;
    }

    public string Path => _file.Path;
    public SparseFile File => _file;
    public IReadOnlyList<CoreSegment> Segments => _segments;
    public IReadOnlyList<ElfNote> Notes { get; }
    public IReadOnlyList<MappedFile> MappedFiles { get; private set; } = [];
    public IReadOnlyDictionary<ulong, ulong> Auxv { get; private set; } = new Dictionary<ulong, ulong>();
    public int? Pid { get; private set; }
    public int? Signal { get; private set; }

    /// <summary>pr_fname: the executable's name, at most 15 characters.</summary>
    public string? ProgramName { get; private set; }

    /// <summary>pr_psargs: the first 80 bytes of the command line, NULs as spaces.</summary>
    public string? PsArgs { get; private set; }

    /// <summary>The full argv, read from the dumped stack; null when it cannot be recovered.</summary>
    public IReadOnlyList<string>? Arguments { get; private set; }

    /// <summary>Bytes the PT_LOADs say the file holds; a shorter file is truncated.</summary>
    public long ExpectedLength { get; private set; }

    public static ProcessCoreFile Open(string path, CancellationToken cancellationToken = default) => Open(SparseFile.Open(path, cancellationToken));

    /// <summary>Parses the core in <paramref name="file"/>, which it then owns.</summary>
    public static ProcessCoreFile Open(SparseFile file)
    {
        try
        {
            var core = Parse(file);
            return core;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static ProcessCoreFile Parse(SparseFile file)
    {
        var path = file.Path;
        Span<byte> head = stackalloc byte[64];
        var n = file.Read(0, head);
        head = head[..n];
        if (head.StartsWith("KDUMP   "u8) || head.StartsWith("makedumpfile\0"u8))
        {
            throw VmcoreGiven(path, "a kdump-compressed vmcore");
        }
        if (!ElfLayout.HasSignature(head))
        {
            throw new ProcessCoreException(ProcessCoreException.NotACore, ErrorKind.InvalidData, path,
                n == 0 ? "the file is empty, not a process core." : "not an ELF file, so not a process core.");
        }
        ElfLayout layout;
        using (var bytes = new SparseFileBytes(file))
        {
            try
            {
                layout = ElfLayout.Read(bytes);
            }
            catch (VmcoreFormatException e)
            {
                throw new ProcessCoreException(ProcessCoreException.NotACore, ErrorKind.InvalidData, path, $"not a readable ELF64 process core: {e.Reason}.", e);
            }
        }
        if (layout.Machine != EmX8664)
        {
            throw new ProcessCoreException(ProcessCoreException.NotQemu, ErrorKind.InvalidData, path,
                $"the core is of an ELF machine {layout.Machine} process; only x86_64 QEMU (qemu-system-x86_64) cores are supported.");
        }

        var notes = new List<ElfNote>();
        var segments = new List<CoreSegment>();
        long expected = 0;
        long noteBytes = 0;
        foreach (var ph in layout.ProgramHeaders)
        {
            if (ph.Type == ElfProgramHeader.PtNote)
            {
                noteBytes += (long)Math.Min(ph.FileSize, int.MaxValue);
                if (noteBytes > ElfNotes.MaxNoteBytes || ph.Offset > long.MaxValue / 2)
                {
                    throw new ProcessCoreException(ProcessCoreException.NotACore, ErrorKind.InvalidData, path, $"PT_NOTE of {ph.FileSize} bytes is larger than any core's.");
                }
                expected = Math.Max(expected, (long)ph.Offset + (long)ph.FileSize);
                if ((long)ph.Offset + (long)ph.FileSize > file.Length)
                {
                    throw Truncation(file, expected, "its notes");
                }
                var data = new byte[ph.FileSize];
                file.Read((long)ph.Offset, data);
                try
                {
                    notes.AddRange(ElfNotes.Parse(data, path, (long)ph.Offset));
                }
                catch (VmcoreFormatException e)
                {
                    throw new ProcessCoreException(ProcessCoreException.NotACore, ErrorKind.InvalidData, path, $"malformed notes: {e.Reason}.", e);
                }
            }
            else if (ph.Type == ElfProgramHeader.PtLoad)
            {
                if (ph.FileSize > ph.MemorySize || ph.Offset > long.MaxValue / 2 || ph.FileSize > long.MaxValue / 2
                    || ph.VirtualAddress > ulong.MaxValue - ph.MemorySize)
                {
                    throw new ProcessCoreException(ProcessCoreException.NotACore, ErrorKind.InvalidData, path,
                        $"PT_LOAD at 0x{ph.VirtualAddress:x} ({ph.FileSize} of {ph.MemorySize} bytes at offset {ph.Offset}) is malformed.");
                }
                segments.Add(new CoreSegment(ph.VirtualAddress, ph.MemorySize, (long)ph.Offset, ph.FileSize, ph.Flags));
                if (ph.FileSize > 0)
                {
                    expected = Math.Max(expected, (long)ph.Offset + (long)ph.FileSize);
                }
            }
        }
        // A guest vmcore (QEMU's dump, kdump's /proc/vmcore) carries the guest's notes, never a process's NT_PRPSINFO.
        if (notes.Any(n => n.Name is "VMCOREINFO" or "QEMU") && !notes.Any(n => n.Name == "CORE" && n.Type == NtPrpsinfo))
        {
            throw VmcoreGiven(path, "an ELF vmcore of a guest");
        }
        var sorted = segments.OrderBy(s => s.VirtualAddress).ToArray();
        for (var i = 1; i < sorted.Length; i++)
        {
            if (sorted[i].VirtualAddress < sorted[i - 1].End)
            {
                throw new ProcessCoreException(ProcessCoreException.NotACore, ErrorKind.InvalidData, path,
                    $"PT_LOADs at 0x{sorted[i - 1].VirtualAddress:x} and 0x{sorted[i].VirtualAddress:x} overlap.");
            }
        }
        var core = new ProcessCoreFile(file, sorted, notes) { ExpectedLength = expected };
        core.ReadProcessNotes();
        core.Arguments = core.RecoverArguments();
        return core;
    }

    private static ProcessCoreException VmcoreGiven(string path, string what) =>
        new(ProcessCoreException.IsVmcore, ErrorKind.InvalidArgument, path, $"this is {what}, not a QEMU process core: it needs no extraction.")
        {
            Remedy = new Remedy("Open it in crash, or rewrite it with {0}.", RemedyTerm.Of(RemedyCommand.ConvertVmcore)),
        };

    /// <summary>The core ends before the data its program headers describe (disk full, a size cap, a copy cut short).</summary>
    internal static ProcessCoreException Truncation(SparseFile file, long expected, string what) =>
        new(ProcessCoreException.Truncated, ErrorKind.InvalidData, file.Path,
            $"the core is truncated: {what} need {expected} bytes but the file has {file.Length}. "
            + "The kernel or systemd-coredump cut it short (RLIMIT_CORE, a size limit such as systemd's ProcessSizeMax/ExternalSizeMax, or a full disk).");

    /// <summary>Throws <see cref="ProcessCoreException.Truncated"/> when the file is shorter than its headers say.</summary>
    public void RequireComplete()
    {
        if (_file.Length < ExpectedLength)
        {
            throw Truncation(_file, ExpectedLength, "its segments");
        }
    }

    private void ReadProcessNotes()
    {
        foreach (var note in Notes.Where(n => n.Name == "CORE"))
        {
            var d = note.Descriptor;
            switch (note.Type)
            {
                case NtPrpsinfo when d.Length >= 136:
                    // struct elf_prpsinfo (x86_64): pr_pid at 24, pr_fname[16] at 40, pr_psargs[80] at 56.
                    Pid ??= BinaryPrimitives.ReadInt32LittleEndian(d.AsSpan(24));
                    ProgramName = CString(d.AsSpan(40, 16));
                    PsArgs = CString(d.AsSpan(56, 80));
                    break;
                case NtSiginfo when d.Length >= 4:
                    Signal = BinaryPrimitives.ReadInt32LittleEndian(d);
                    break;
                case NtPrstatus when d.Length >= 36 && Signal is null:
                    // struct elf_prstatus: pr_cursig (short) at 12, pr_pid at 32.
                    Signal = BinaryPrimitives.ReadInt16LittleEndian(d.AsSpan(12));
                    Pid ??= BinaryPrimitives.ReadInt32LittleEndian(d.AsSpan(32));
                    break;
                case NtAuxv:
                    var auxv = new Dictionary<ulong, ulong>();
                    for (var i = 0; i + 16 <= d.Length; i += 16)
                    {
                        var key = BinaryPrimitives.ReadUInt64LittleEndian(d.AsSpan(i));
                        if (key == AtNull)
                        {
                            break;
                        }
                        auxv.TryAdd(key, BinaryPrimitives.ReadUInt64LittleEndian(d.AsSpan(i + 8)));
                    }
                    Auxv = auxv;
                    break;
                case NtFile:
                    MappedFiles = ParseMappedFiles(d);
                    break;
            }
        }
    }

    /// <summary>NT_FILE: count, page size, count × {start, end, file offset in pages}, then count NUL-terminated names.</summary>
    private List<MappedFile> ParseMappedFiles(byte[] d)
    {
        var files = new List<MappedFile>();
        if (d.Length < 16)
        {
            return files;
        }
        var count = BinaryPrimitives.ReadUInt64LittleEndian(d);
        var pageSize = BinaryPrimitives.ReadUInt64LittleEndian(d.AsSpan(8));
        if (count > MaxMappedFiles || 16 + count * 24 > (ulong)d.Length || pageSize > 1 << 30)
        {
            throw new ProcessCoreException(ProcessCoreException.NotACore, ErrorKind.InvalidData, Path, $"NT_FILE note claims {count} mappings, more than it holds.");
        }
        var names = 16 + (int)count * 24;
        for (var i = 0; i < (int)count; i++)
        {
            var entry = d.AsSpan(16 + i * 24);
            var end = Array.IndexOf(d, (byte)0, names);
            if (end < 0)
            {
                end = d.Length;
            }
            var name = Encoding.UTF8.GetString(d, names, end - names);
            names = Math.Min(end + 1, d.Length);
            files.Add(new MappedFile(BinaryPrimitives.ReadUInt64LittleEndian(entry), BinaryPrimitives.ReadUInt64LittleEndian(entry[8..]),
                BinaryPrimitives.ReadUInt64LittleEndian(entry[16..]) * pageSize, name));
        }
        return files;
    }

    /// <summary>
    /// argv from the dumped stack. The kernel lays out, upwards: argc, argv[] pointers, NULL, envp[] pointers, NULL,
    /// the auxiliary vector (whose bytes equal NT_AUXV), and near the top the argv and envp strings (fs/binfmt_elf.c
    /// create_elf_tables). AT_EXECFN points into the stack mapping, so that mapping is searched for the auxv bytes.
    /// </summary>
    private List<string>? RecoverArguments()
    {
        if (!Auxv.TryGetValue(AtExecfn, out var execfn) || FindSegment(execfn) is not { } stack || stack.FileSize == 0)
        {
            return null;
        }
        var auxvNote = Notes.FirstOrDefault(n => n.Name == "CORE" && n.Type == NtAuxv)?.Descriptor;
        if (auxvNote is null || auxvNote.Length < 32 || stack.FileSize > 64 * 1024 * 1024 || stack.FileOffset + (long)stack.FileSize > _file.Length)
        {
            return null;
        }
        var bytes = new byte[stack.FileSize];
        _file.Read(stack.FileOffset, bytes);
        var at = bytes.AsSpan().IndexOf(auxvNote.AsSpan(0, Math.Min(auxvNote.Length, 64)));
        if (at < 16 || at % 8 != 0)
        {
            return null;
        }
        // Walk down: the envp terminator, envp pointers, the argv terminator, argv pointers, argc.
        var pos = at - 8;
        if (Word(bytes, pos) != 0)
        {
            return null;
        }
        pos -= 8;
        while (pos >= 0 && Word(bytes, pos) != 0)
        {
            pos -= 8;
        }
        if (pos < 8)
        {
            return null;
        }
        var argvEnd = pos; // the NULL after argv
        var count = 0;
        pos -= 8;
        while (pos >= 0 && count <= MaxArguments && Word(bytes, pos) != (ulong)count)
        {
            count++;
            pos -= 8;
        }
        if (pos < 0 || count == 0 || count > MaxArguments)
        {
            return null;
        }
        var arguments = new List<string>(count);
        long total = 0;
        for (var i = 0; i < count; i++)
        {
            var pointer = Word(bytes, argvEnd - (count - i) * 8);
            if (pointer < stack.VirtualAddress || pointer >= stack.VirtualAddress + stack.FileSize)
            {
                return null;
            }
            var start = (int)(pointer - stack.VirtualAddress);
            var end = Array.IndexOf(bytes, (byte)0, start);
            if (end < 0)
            {
                return null;
            }
            total += end - start;
            if (total > MaxArgumentBytes)
            {
                return null;
            }
            arguments.Add(Encoding.UTF8.GetString(bytes, start, end - start));
        }
        return arguments;
    }

    private static ulong Word(byte[] bytes, int at) => BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at));

    public CoreSegment? FindSegment(ulong address)
    {
        int lo = 0, hi = _segments.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_segments[mid].End <= address)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo < _segments.Length && _segments[lo].VirtualAddress <= address ? _segments[lo] : null;
    }

    /// <summary>The NT_FILE name of the mapping that starts at <paramref name="address"/>, if it is file-backed.</summary>
    public string? MappedFileName(ulong address) => MappedFiles.FirstOrDefault(f => f.Start == address).Name;

    private static string CString(ReadOnlySpan<byte> field)
    {
        var nul = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul >= 0 ? field[..nul] : field).Trim();
    }

    public void Dispose() => _file.Dispose();

    /// <summary>Lets the vmcore ELF header reader run over the sparse file.</summary>
    private sealed class SparseFileBytes(SparseFile file) : DumpByteSource(file.Path)
    {
        public override long Length => file.Length;

        public override int Read(long offset, Span<byte> buffer) => file.Read(offset, buffer);

        public override void Dispose()
        {
            // The SparseFile belongs to the core.
        }
    }
}
