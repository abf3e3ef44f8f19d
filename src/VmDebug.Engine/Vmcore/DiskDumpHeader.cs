using System.Buffers.Binary;
using System.Text;

namespace VmDebug.Engine.Vmcore;

/// <summary>
/// makedumpfile's disk_dump_header (x86_64, 464 bytes at offset 0), read and written through the offsets of
/// <see cref="KdumpLayout"/>; the one model the kdump reader, writer and repairer share.
/// </summary>
internal sealed record DiskDumpHeader
{
    public int HeaderVersion { get; init; } = KdumpLayout.HeaderVersion;

    /// <summary>sysname, nodename, release, version, machine, domainname.</summary>
    public IReadOnlyList<string> Utsname { get; init; } = ["", "", "", "", "", ""];

    public DateTimeOffset Timestamp { get; init; }

    /// <summary>DUMP_DH_COMPRESSED_* bits: the codec the pages use.</summary>
    public int Status { get; init; }

    public int BlockSize { get; init; }
    public int SubHeaderBlocks { get; init; }
    public int BitmapBlocks { get; init; }

    /// <summary>The 32-bit max_mapnr; header_version 6 keeps the full value in the sub-header.</summary>
    public uint MaxMapnr32 { get; init; }

    public int NrCpus { get; init; }

    public static bool HasSignature(ReadOnlySpan<byte> bytes) => bytes.StartsWith(KdumpLayout.Signature);

    /// <summary>Decodes <paramref name="bytes"/> (at least <see cref="KdumpLayout.DiskDumpHeaderSize"/> bytes); the signature is checked by the caller.</summary>
    public static DiskDumpHeader Read(ReadOnlySpan<byte> bytes)
    {
        var h = bytes[..KdumpLayout.DiskDumpHeaderSize];
        var utsname = new string[6];
        for (var i = 0; i < utsname.Length; i++)
        {
            utsname[i] = ReadCString(h.Slice(KdumpLayout.UtsSysname + i * KdumpLayout.UtsFieldSize, KdumpLayout.UtsFieldSize));
        }
        var seconds = BinaryPrimitives.ReadInt64LittleEndian(h[KdumpLayout.TimestampSeconds..]);
        return new DiskDumpHeader
        {
            HeaderVersion = BinaryPrimitives.ReadInt32LittleEndian(h[KdumpLayout.Version..]),
            Utsname = utsname,
            Timestamp = seconds is >= 0 and < 253402300800 ? DateTimeOffset.FromUnixTimeSeconds(seconds) : default,
            Status = BinaryPrimitives.ReadInt32LittleEndian(h[KdumpLayout.Status..]),
            BlockSize = BinaryPrimitives.ReadInt32LittleEndian(h[KdumpLayout.BlockSize..]),
            SubHeaderBlocks = BinaryPrimitives.ReadInt32LittleEndian(h[KdumpLayout.SubHeaderBlocks..]),
            BitmapBlocks = BinaryPrimitives.ReadInt32LittleEndian(h[KdumpLayout.BitmapBlocks..]),
            MaxMapnr32 = BinaryPrimitives.ReadUInt32LittleEndian(h[KdumpLayout.MaxMapnr32..]),
            NrCpus = BinaryPrimitives.ReadInt32LittleEndian(h[KdumpLayout.NrCpus..]),
        };
    }

    public void Write(Span<byte> bytes)
    {
        var h = bytes[..KdumpLayout.DiskDumpHeaderSize];
        h.Clear();
        KdumpLayout.Signature.CopyTo(h);
        BinaryPrimitives.WriteInt32LittleEndian(h[KdumpLayout.Version..], HeaderVersion);
        for (var i = 0; i < Math.Min(6, Utsname.Count); i++)
        {
            WriteUtsField(h, KdumpLayout.UtsSysname + i * KdumpLayout.UtsFieldSize, Utsname[i]);
        }
        BinaryPrimitives.WriteInt64LittleEndian(h[KdumpLayout.TimestampSeconds..], Timestamp.ToUnixTimeSeconds());
        BinaryPrimitives.WriteInt64LittleEndian(h[KdumpLayout.TimestampMicroseconds..], Timestamp.Millisecond * 1000L);
        BinaryPrimitives.WriteInt32LittleEndian(h[KdumpLayout.Status..], Status);
        BinaryPrimitives.WriteInt32LittleEndian(h[KdumpLayout.BlockSize..], BlockSize);
        BinaryPrimitives.WriteInt32LittleEndian(h[KdumpLayout.SubHeaderBlocks..], SubHeaderBlocks);
        BinaryPrimitives.WriteInt32LittleEndian(h[KdumpLayout.BitmapBlocks..], BitmapBlocks);
        BinaryPrimitives.WriteUInt32LittleEndian(h[KdumpLayout.MaxMapnr32..], MaxMapnr32);
        BinaryPrimitives.WriteInt32LittleEndian(h[KdumpLayout.NrCpus..], NrCpus);
    }

    /// <summary>One utsname field: NUL-padded, truncated to leave its terminating NUL.</summary>
    public static void WriteUtsField(Span<byte> header, int offset, string value)
    {
        var field = header.Slice(offset, KdumpLayout.UtsFieldSize);
        field.Clear();
        var bytes = Encoding.ASCII.GetBytes(value);
        bytes.AsSpan(0, Math.Min(bytes.Length, KdumpLayout.UtsFieldSize - 1)).CopyTo(field);
    }

    private static string ReadCString(ReadOnlySpan<byte> field)
    {
        var nul = field.IndexOf((byte)0);
        return Encoding.ASCII.GetString(nul >= 0 ? field[..nul] : field);
    }
}
