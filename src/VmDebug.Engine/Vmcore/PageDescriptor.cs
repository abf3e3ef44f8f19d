using System.Buffers.Binary;

namespace VmDebug.Engine.Vmcore;

/// <summary>page_desc (24 bytes): where one dumped page's data is, how long, and its compression flag.</summary>
internal readonly record struct PageDescriptor(long Offset, uint Size, uint Flags, ulong PageFlags)
{
    public static PageDescriptor Read(ReadOnlySpan<byte> bytes) => new(
        BinaryPrimitives.ReadInt64LittleEndian(bytes[KdumpLayout.DescOffset..]),
        BinaryPrimitives.ReadUInt32LittleEndian(bytes[KdumpLayout.DescSize..]),
        BinaryPrimitives.ReadUInt32LittleEndian(bytes[KdumpLayout.DescFlags..]),
        BinaryPrimitives.ReadUInt64LittleEndian(bytes[KdumpLayout.DescPageFlags..]));

    public void Write(Span<byte> bytes)
    {
        BinaryPrimitives.WriteInt64LittleEndian(bytes[KdumpLayout.DescOffset..], Offset);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[KdumpLayout.DescSize..], Size);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[KdumpLayout.DescFlags..], Flags);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[KdumpLayout.DescPageFlags..], PageFlags);
    }
}
