using System.Buffers.Binary;
using VmDebug.Engine.Pstore;

namespace VmDebug.Tests.Support;

/// <summary>
/// Writes a persistent RAM zone the way the guest kernel does (fs/pstore/ram_core.c): header sig/start/size,
/// persistent_ram_write's saturating size and wrapping start, persistent_ram_zap, and with ECC the parity of
/// every 128-byte block touched and of the header. Written from the kernel's algorithm, not from the reader.
/// </summary>
internal sealed class KernelZoneWriter
{
    private readonly byte[] _zone;
    private readonly int _bufferSize;
    private readonly int _eccSize;
    private readonly RamoopsEcc? _ecc;
    private readonly int _eccBlocks;

    public KernelZoneWriter(int zoneSize, uint signature, int eccSize = 0)
    {
        _zone = new byte[zoneSize];
        _eccSize = eccSize;
        _bufferSize = zoneSize - PstoreLayout.HeaderSize;
        if (eccSize > 0)
        {
            var (blocks, total) = RamoopsEcc.Geometry(_bufferSize, eccSize);
            _bufferSize -= total;
            _eccBlocks = blocks;
            _ecc = new RamoopsEcc(eccSize);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(_zone, signature);
        Zap();
    }

    public byte[] Bytes => _zone;

    public int BufferSize => _bufferSize;

    public uint Start
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_zone.AsSpan(4));
        set => BinaryPrimitives.WriteUInt32LittleEndian(_zone.AsSpan(4), value);
    }

    public uint Size
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_zone.AsSpan(8));
        set => BinaryPrimitives.WriteUInt32LittleEndian(_zone.AsSpan(8), value);
    }

    public void Zap()
    {
        Start = 0;
        Size = 0;
        UpdateHeaderEcc();
    }

    public void Write(ReadOnlySpan<byte> data)
    {
        if (data.Length > _bufferSize)
        {
            data = data[^_bufferSize..];
        }
        Size = (uint)Math.Min(_bufferSize, (int)Size + data.Length);
        var start = (int)Start;
        var next = start + data.Length;
        while (next >= _bufferSize)
        {
            next -= _bufferSize;
        }
        Start = (uint)next;
        var room = _bufferSize - start;
        if (room < data.Length)
        {
            Update(start, data[..room]);
            data = data[room..];
            start = 0;
        }
        Update(start, data);
        UpdateHeaderEcc();
    }

    private void Update(int start, ReadOnlySpan<byte> data)
    {
        data.CopyTo(_zone.AsSpan(PstoreLayout.HeaderSize + start));
        if (_ecc is null)
        {
            return;
        }
        // persistent_ram_update_ecc: every block from the one holding start to the one holding the last byte.
        var parity = _zone.AsSpan(PstoreLayout.HeaderSize + _bufferSize);
        for (var block = start / RamoopsEcc.BlockSize; block * RamoopsEcc.BlockSize < start + data.Length; block++)
        {
            var offset = block * RamoopsEcc.BlockSize;
            var length = Math.Min(RamoopsEcc.BlockSize, _bufferSize - offset);
            _ecc.Encode(_zone.AsSpan(PstoreLayout.HeaderSize + offset, length), parity.Slice(block * _eccSize, _eccSize));
        }
    }

    private void UpdateHeaderEcc()
    {
        if (_ecc is null)
        {
            return;
        }
        // The header's parity follows the data blocks' (persistent_ram_init_ecc: par_header).
        _ecc.Encode(_zone.AsSpan(0, PstoreLayout.HeaderSize), _zone.AsSpan(PstoreLayout.HeaderSize + _bufferSize + _eccBlocks * _eccSize, _eccSize));
    }
}
