using System.Buffers.Binary;
using System.Text;

namespace VmDebug.Engine.Vmcore;

/// <summary>
/// ELF note (de)serialisation. Vmcores align name and descriptor to 4 bytes even in ELF64
/// (the kernel's /proc/vmcore, QEMU's dump.c and makedumpfile all do).
/// </summary>
internal static class ElfNotes
{
    public const int MaxNotes = 65536;
    public const int MaxNoteBytes = 64 * 1024 * 1024;
    private const int MaxNameBytes = 256;

    public static List<ElfNote> Parse(ReadOnlySpan<byte> data, string path, long fileOffset)
    {
        var notes = new List<ElfNote>();
        var pos = 0;
        while (data.Length - pos >= 12)
        {
            var nameSize = BinaryPrimitives.ReadUInt32LittleEndian(data[pos..]);
            var descSize = BinaryPrimitives.ReadUInt32LittleEndian(data[(pos + 4)..]);
            var type = BinaryPrimitives.ReadUInt32LittleEndian(data[(pos + 8)..]);
            if (nameSize == 0 && descSize == 0 && type == 0)
            {
                break; // zero padding after the last note
            }
            var at = fileOffset + pos;
            if (nameSize > MaxNameBytes)
            {
                throw new VmcoreFormatException(path, at, $"note name size {nameSize} exceeds {MaxNameBytes}");
            }
            var nameStart = pos + 12;
            var descStart = (long)nameStart + Align4(nameSize);
            var end = descStart + Align4(descSize);
            // The last note's descriptor padding may be missing; the descriptor itself may not.
            if (descStart + descSize > data.Length)
            {
                throw new VmcoreFormatException(path, at, $"note of {nameSize}+{descSize} bytes runs past the end of the note segment");
            }
            if (notes.Count == MaxNotes)
            {
                throw new VmcoreFormatException(path, at, $"more than {MaxNotes} notes");
            }
            var name = Encoding.ASCII.GetString(data.Slice(nameStart, (int)nameSize)).TrimEnd('\0');
            notes.Add(new ElfNote(name, type, data.Slice((int)descStart, (int)descSize).ToArray()));
            pos = (int)Math.Min(end, data.Length);
        }
        return notes;
    }

    public static int SerializedSize(IEnumerable<ElfNote> notes) =>
        notes.Sum(n => 12 + (int)Align4((uint)Encoding.ASCII.GetByteCount(n.Name) + 1) + (int)Align4((uint)n.Descriptor.Length));

    public static byte[] Serialize(IReadOnlyList<ElfNote> notes)
    {
        var buffer = new byte[SerializedSize(notes)];
        var pos = 0;
        foreach (var note in notes)
        {
            var nameSize = Encoding.ASCII.GetByteCount(note.Name) + 1;
            BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(pos), (uint)nameSize);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(pos + 4), (uint)note.Descriptor.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(pos + 8), note.Type);
            pos += 12;
            Encoding.ASCII.GetBytes(note.Name, buffer.AsSpan(pos));
            pos += (int)Align4((uint)nameSize);
            note.Descriptor.CopyTo(buffer.AsSpan(pos));
            pos += (int)Align4((uint)note.Descriptor.Length);
        }
        return buffer;
    }

    private static long Align4(uint value) => ((long)value + 3) & ~3L;
}
