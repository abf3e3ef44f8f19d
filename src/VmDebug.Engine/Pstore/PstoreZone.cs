using System.Buffers.Binary;

namespace VmDebug.Engine.Pstore;

/// <summary>
/// One persistent RAM zone decoded from its bytes (fs/pstore/ram_core.c): the 12-byte header (signature
/// "DBGC" 0x43474244 XOR the zone's value, start, size), the data ring of buffer_size bytes, and, with ECC, the
/// parity blocks after it, which are never taken for data. Content is data[start..size) then data[0..start).
/// </summary>
internal sealed class PstoreZone
{
    public const uint Signature = 0x43474244;

    private PstoreZone(PstoreZoneSpec spec, ZoneState state, byte[] content, uint rawSignature, string? problem, int eccMismatches, int eccBlocks)
    {
        Spec = spec;
        State = state;
        Content = content;
        RawSignature = rawSignature;
        Problem = problem;
        EccMismatches = eccMismatches;
        EccBlocks = eccBlocks;
    }

    public PstoreZoneSpec Spec { get; }
    public ZoneState State { get; }

    /// <summary>The zone's logical content, oldest byte first; empty unless <see cref="State"/> is Valid.</summary>
    public byte[] Content { get; }

    public uint RawSignature { get; }

    /// <summary>Why the zone was not read, for a warning; null when valid or empty.</summary>
    public string? Problem { get; }

    /// <summary>ECC blocks (header included) whose stored parity differs from the parity of the bytes read.</summary>
    public int EccMismatches { get; }

    public int EccBlocks { get; }

    /// <summary>Decodes a zone from all of its bytes (header, data, parity). Never trusts start or size beyond the zone.</summary>
    public static PstoreZone Decode(PstoreZoneSpec spec, ReadOnlySpan<byte> zone, int eccSize)
    {
        var signature = BinaryPrimitives.ReadUInt32LittleEndian(zone);
        var start = BinaryPrimitives.ReadUInt32LittleEndian(zone[4..]);
        var size = BinaryPrimitives.ReadUInt32LittleEndian(zone[8..]);
        var bufferSize = zone.Length - PstoreLayout.HeaderSize;
        var parityBlocks = 0;
        if (eccSize > 0)
        {
            var (blocks, total) = RamoopsEcc.Geometry(bufferSize, eccSize);
            if (total >= bufferSize)
            {
                return new PstoreZone(spec, ZoneState.Invalid, [], signature, $"ecc {eccSize} leaves no data in a zone of {zone.Length} bytes", 0, 0);
            }
            bufferSize -= total;
            parityBlocks = blocks;
        }
        if (!SignatureMatches(spec, signature))
        {
            return new PstoreZone(spec, ZoneState.NoSignature, [], signature,
                $"signature 0x{signature:x8} is not ramoops's (0x{Signature ^ (spec.SignatureXor ?? 0):x8})", 0, 0);
        }
        if (size > bufferSize || start > size)
        {
            return new PstoreZone(spec, ZoneState.Invalid, [], signature,
                $"its header is corrupt: size {size} and start {start} do not fit its {bufferSize}-byte buffer", 0, 0);
        }
        var data = zone.Slice(PstoreLayout.HeaderSize, bufferSize);
        var (mismatches, checkedBlocks) = eccSize > 0 ? CheckEcc(zone, data, (int)size, eccSize, parityBlocks) : (0, 0);
        if (size == 0)
        {
            return new PstoreZone(spec, ZoneState.Empty, [], signature, null, mismatches, checkedBlocks);
        }
        var content = new byte[size];
        data[(int)start..(int)size].CopyTo(content);
        data[..(int)start].CopyTo(content.AsSpan((int)(size - start)));
        return new PstoreZone(spec, ZoneState.Valid, content, signature, null, mismatches, checkedBlocks);
    }

    /// <summary>
    /// dmesg, console and pmsg zones carry DBGC itself; ftrace zones DBGC XOR LINUX_VERSION_CODE, taken as any
    /// version 2.0 … 15.255.255 since the dump does not give the sublevel.
    /// </summary>
    private static bool SignatureMatches(PstoreZoneSpec spec, uint signature)
    {
        if (spec.SignatureXor is { } xor)
        {
            return signature == (Signature ^ xor);
        }
        var version = signature ^ Signature;
        return version >> 16 is >= 2 and <= 15;
    }

    /// <summary>The header block and every data block up to the used size, as persistent_ram_ecc_old walks them.</summary>
    private static (int Mismatches, int Blocks) CheckEcc(ReadOnlySpan<byte> zone, ReadOnlySpan<byte> data, int size, int eccSize, int parityBlocks)
    {
        var ecc = new RamoopsEcc(eccSize);
        var parity = zone[(PstoreLayout.HeaderSize + data.Length)..];
        var mismatches = ecc.Matches(zone[..PstoreLayout.HeaderSize], parity.Slice(parityBlocks * eccSize, eccSize)) ? 0 : 1;
        var blocks = 1;
        for (var block = 0; block * RamoopsEcc.BlockSize < size && block < parityBlocks; block++, blocks++)
        {
            var offset = block * RamoopsEcc.BlockSize;
            var length = Math.Min(RamoopsEcc.BlockSize, data.Length - offset);
            if (!ecc.Matches(data.Slice(offset, length), parity.Slice(block * eccSize, eccSize)))
            {
                mismatches++;
            }
        }
        return (mismatches, blocks);
    }
}
