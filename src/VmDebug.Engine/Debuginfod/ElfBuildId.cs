using System.Buffers.Binary;

namespace VmDebug.Engine.Debuginfod;

/// <summary>
/// Reads the GNU build-id note (NT_GNU_BUILD_ID) of an ELF file: from its SHT_NOTE sections first (a separate
/// debuginfo file keeps those while its program headers may point at stripped bytes), then from PT_NOTE segments.
/// The file comes from a server: every count, offset and size is bounded before it is used.
/// </summary>
internal static class ElfBuildId
{
    private const uint SectionNote = 7;     // SHT_NOTE
    private const uint SegmentNote = 4;     // PT_NOTE
    private const uint NoteGnuBuildId = 3;  // NT_GNU_BUILD_ID
    private const int MaxHeaders = 65535;
    private const int MaxNoteBytes = 1 << 20;

    /// <summary>The build id as lowercase hex, or null when the file has none.</summary>
    /// <exception cref="InvalidDataException">Not an ELF file, or its headers are out of bounds.</exception>
    public static string? Read(FileStream file)
    {
        Span<byte> ident = stackalloc byte[64];
        file.Position = 0;
        var read = file.ReadAtLeast(ident, 64, throwOnEndOfStream: false);
        if (read < 52 || !ident[..4].SequenceEqual("\u007fELF"u8))
        {
            throw new InvalidDataException("it is not an ELF file (no \\x7fELF magic)");
        }

        var is64 = ident[4] switch
        {
            1 => false,
            2 => true,
            _ => throw new InvalidDataException($"its ELF class {ident[4]} is neither 32- nor 64-bit"),
        };
        if (is64 && read < 64)
        {
            throw new InvalidDataException("its 64-bit ELF header is cut short");
        }

        var little = ident[5] switch
        {
            1 => true,
            2 => false,
            _ => throw new InvalidDataException($"its ELF data encoding {ident[5]} is neither little- nor big-endian"),
        };
        var header = new Reader(little);
        var shoff = is64 ? header.U64(ident[40..]) : header.U32(ident[32..]);
        int shentsize = header.U16(ident[(is64 ? 58 : 46)..]), shnum = header.U16(ident[(is64 ? 60 : 48)..]);
        var phoff = is64 ? header.U64(ident[32..]) : header.U32(ident[28..]);
        int phentsize = header.U16(ident[(is64 ? 54 : 42)..]), phnum = header.U16(ident[(is64 ? 56 : 44)..]);

        var fromSections = FindInTable(file, header, shoff, shentsize, shnum, is64 ? 64 : 40, entry =>
            header.U32(entry[4..]) != SectionNote ? null
            : is64 ? (header.U64(entry[24..]), header.U64(entry[32..]), header.U64(entry[48..]))
            : (header.U32(entry[16..]), header.U32(entry[20..]), header.U32(entry[32..])));
        return fromSections ?? FindInTable(file, header, phoff, phentsize, phnum, is64 ? 56 : 32, entry =>
            header.U32(entry[0..]) != SegmentNote ? null
            : is64 ? (header.U64(entry[8..]), header.U64(entry[32..]), header.U64(entry[48..]))
            : (header.U32(entry[4..]), header.U32(entry[16..]), header.U32(entry[28..])));
    }

    private static string? FindInTable(FileStream file, Reader reader, ulong tableOffset, int entrySize, int count,
        int minEntrySize, NoteArea noteOf)
    {
        if (count == 0 || tableOffset == 0)
        {
            return null;
        }

        if (entrySize < minEntrySize || count > MaxHeaders)
        {
            throw new InvalidDataException($"its header table has {count} entries of {entrySize} bytes");
        }

        var length = (ulong)file.Length;
        if (tableOffset > length || (ulong)entrySize * (ulong)count > length - tableOffset)
        {
            throw new InvalidDataException($"its header table at offset {tableOffset} runs past the end of the file");
        }

        var table = new byte[entrySize * count];
        file.Position = (long)tableOffset;
        file.ReadExactly(table);
        for (var i = 0; i < count; i++)
        {
            if (noteOf(table.AsSpan(i * entrySize, entrySize)) is not var (offset, size, align))
            {
                continue;
            }

            if (size == 0 || size > MaxNoteBytes || offset > length || size > length - offset)
            {
                continue; // an empty, oversized or stripped note area holds nothing we can trust
            }

            var notes = new byte[size];
            file.Position = (long)offset;
            file.ReadExactly(notes);
            if (FindBuildId(notes, reader, align == 8 ? 8 : 4) is { } id)
            {
                return id;
            }
        }
        return null;
    }

    private static string? FindBuildId(ReadOnlySpan<byte> notes, Reader reader, int align)
    {
        var pos = 0;
        while (notes.Length - pos >= 12)
        {
            ulong nameSize = reader.U32(notes[pos..]), descSize = reader.U32(notes[(pos + 4)..]);
            var type = reader.U32(notes[(pos + 8)..]);
            var nameStart = (ulong)pos + 12;
            var descStart = nameStart + Align(nameSize, align);
            if (descStart + descSize > (ulong)notes.Length)
            {
                return null;
            }

            if (type == NoteGnuBuildId && nameSize == 4 && notes.Slice((int)nameStart, 4).SequenceEqual("GNU\0"u8) && descSize > 0)
            {
                return Convert.ToHexString(notes.Slice((int)descStart, (int)descSize)).ToLowerInvariant();
            }

            pos = (int)Math.Min(descStart + Align(descSize, align), (ulong)notes.Length);
        }
        return null;
    }

    /// <summary>Where a header table entry's notes are, or null when the entry holds no notes.</summary>
    private delegate (ulong Offset, ulong Size, ulong Align)? NoteArea(ReadOnlySpan<byte> entry);

    private static ulong Align(ulong value, int align) => (value + (ulong)align - 1) & ~((ulong)align - 1);

    private readonly record struct Reader(bool Little)
    {
        public ushort U16(ReadOnlySpan<byte> b) => Little ? BinaryPrimitives.ReadUInt16LittleEndian(b) : BinaryPrimitives.ReadUInt16BigEndian(b);
        public uint U32(ReadOnlySpan<byte> b) => Little ? BinaryPrimitives.ReadUInt32LittleEndian(b) : BinaryPrimitives.ReadUInt32BigEndian(b);
        public ulong U64(ReadOnlySpan<byte> b) => Little ? BinaryPrimitives.ReadUInt64LittleEndian(b) : BinaryPrimitives.ReadUInt64BigEndian(b);
    }
}
