using System.Buffers.Binary;

namespace VmDebug.Engine.Vmcore;

/// <summary>kdump_sub_header (header_version 6, 104 bytes at block 1), through the offsets of <see cref="KdumpLayout"/>.</summary>
internal sealed record KdumpSubHeader
{
    public long PhysBase { get; init; }
    public int DumpLevel { get; init; }
    public int Split { get; init; }
    public ulong StartPfn { get; init; }
    public ulong EndPfn { get; init; }
    public long OffsetVmcoreinfo { get; init; }
    public long SizeVmcoreinfo { get; init; }
    public long OffsetNote { get; init; }
    public long SizeNote { get; init; }
    public long OffsetEraseinfo { get; init; }
    public long SizeEraseinfo { get; init; }
    public ulong StartPfn64 { get; init; }
    public ulong EndPfn64 { get; init; }
    public ulong MaxMapnr64 { get; init; }

    public static KdumpSubHeader Read(ReadOnlySpan<byte> bytes)
    {
        var s = bytes[..KdumpLayout.SubHeaderSize];
        return new KdumpSubHeader
        {
            PhysBase = BinaryPrimitives.ReadInt64LittleEndian(s[KdumpLayout.SubPhysBase..]),
            DumpLevel = BinaryPrimitives.ReadInt32LittleEndian(s[KdumpLayout.SubDumpLevel..]),
            Split = BinaryPrimitives.ReadInt32LittleEndian(s[KdumpLayout.SubSplit..]),
            StartPfn = BinaryPrimitives.ReadUInt64LittleEndian(s[KdumpLayout.SubStartPfn..]),
            EndPfn = BinaryPrimitives.ReadUInt64LittleEndian(s[KdumpLayout.SubEndPfn..]),
            OffsetVmcoreinfo = BinaryPrimitives.ReadInt64LittleEndian(s[KdumpLayout.SubOffsetVmcoreinfo..]),
            SizeVmcoreinfo = BinaryPrimitives.ReadInt64LittleEndian(s[KdumpLayout.SubSizeVmcoreinfo..]),
            OffsetNote = BinaryPrimitives.ReadInt64LittleEndian(s[KdumpLayout.SubOffsetNote..]),
            SizeNote = BinaryPrimitives.ReadInt64LittleEndian(s[KdumpLayout.SubSizeNote..]),
            OffsetEraseinfo = BinaryPrimitives.ReadInt64LittleEndian(s[KdumpLayout.SubOffsetEraseinfo..]),
            SizeEraseinfo = BinaryPrimitives.ReadInt64LittleEndian(s[KdumpLayout.SubSizeEraseinfo..]),
            StartPfn64 = BinaryPrimitives.ReadUInt64LittleEndian(s[KdumpLayout.SubStartPfn64..]),
            EndPfn64 = BinaryPrimitives.ReadUInt64LittleEndian(s[KdumpLayout.SubEndPfn64..]),
            MaxMapnr64 = BinaryPrimitives.ReadUInt64LittleEndian(s[KdumpLayout.SubMaxMapnr64..]),
        };
    }

    public void Write(Span<byte> bytes)
    {
        var s = bytes[..KdumpLayout.SubHeaderSize];
        s.Clear();
        BinaryPrimitives.WriteInt64LittleEndian(s[KdumpLayout.SubPhysBase..], PhysBase);
        BinaryPrimitives.WriteInt32LittleEndian(s[KdumpLayout.SubDumpLevel..], DumpLevel);
        BinaryPrimitives.WriteInt32LittleEndian(s[KdumpLayout.SubSplit..], Split);
        BinaryPrimitives.WriteUInt64LittleEndian(s[KdumpLayout.SubStartPfn..], StartPfn);
        BinaryPrimitives.WriteUInt64LittleEndian(s[KdumpLayout.SubEndPfn..], EndPfn);
        BinaryPrimitives.WriteInt64LittleEndian(s[KdumpLayout.SubOffsetVmcoreinfo..], OffsetVmcoreinfo);
        BinaryPrimitives.WriteInt64LittleEndian(s[KdumpLayout.SubSizeVmcoreinfo..], SizeVmcoreinfo);
        BinaryPrimitives.WriteInt64LittleEndian(s[KdumpLayout.SubOffsetNote..], OffsetNote);
        BinaryPrimitives.WriteInt64LittleEndian(s[KdumpLayout.SubSizeNote..], SizeNote);
        BinaryPrimitives.WriteInt64LittleEndian(s[KdumpLayout.SubOffsetEraseinfo..], OffsetEraseinfo);
        BinaryPrimitives.WriteInt64LittleEndian(s[KdumpLayout.SubSizeEraseinfo..], SizeEraseinfo);
        BinaryPrimitives.WriteUInt64LittleEndian(s[KdumpLayout.SubStartPfn64..], StartPfn64);
        BinaryPrimitives.WriteUInt64LittleEndian(s[KdumpLayout.SubEndPfn64..], EndPfn64);
        BinaryPrimitives.WriteUInt64LittleEndian(s[KdumpLayout.SubMaxMapnr64..], MaxMapnr64);
    }
}
