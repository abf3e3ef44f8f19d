using System.Numerics;

namespace VmDebug.Engine.Vmcore;

/// <summary>One bit per page frame, LSB first within each byte (the kdump bitmap order).</summary>
public sealed class PfnBitmap
{
    private readonly ulong[] _words;

    public PfnBitmap(ulong pageCount)
    {
        PageCount = pageCount;
        _words = new ulong[checked((long)((pageCount + 63) / 64))];
    }

    public ulong PageCount { get; }

    public bool this[ulong pfn] => pfn < PageCount && (_words[pfn / 64] & (1UL << (int)(pfn % 64))) != 0;

    public void Set(ulong pfn)
    {
        if (pfn < PageCount)
        {
            _words[pfn / 64] |= 1UL << (int)(pfn % 64);
        }
    }

    /// <summary>Sets <paramref name="count"/> frames from <paramref name="pfn"/> on, clipped to the bitmap.</summary>
    public void SetRange(ulong pfn, ulong count)
    {
        var end = Math.Min(PageCount, pfn + count);
        for (var p = pfn; p < end; p++)
        {
            _words[p / 64] |= 1UL << (int)(p % 64);
        }
    }

    public long CountSet() => _words.Sum(w => (long)BitOperations.PopCount(w));

    /// <summary>The bitmap as kdump stores it, padded with zeros to <paramref name="bytes"/>.</summary>
    public byte[] ToBytes(int bytes)
    {
        var result = new byte[bytes];
        var raw = System.Runtime.InteropServices.MemoryMarshal.AsBytes(_words.AsSpan());
        raw[..Math.Min(raw.Length, bytes)].CopyTo(result);
        return result;
    }

    /// <summary>Reads a kdump-order bitmap of <paramref name="pageCount"/> bits.</summary>
    public static PfnBitmap FromBytes(ReadOnlySpan<byte> bytes, ulong pageCount)
    {
        var bitmap = new PfnBitmap(pageCount);
        var raw = System.Runtime.InteropServices.MemoryMarshal.AsBytes(bitmap._words.AsSpan());
        var take = (int)Math.Min((ulong)bytes.Length, (pageCount + 7) / 8);
        bytes[..take].CopyTo(raw);
        if (pageCount % 64 != 0)
        {
            bitmap._words[^1] &= (1UL << (int)(pageCount % 64)) - 1;
        }
        return bitmap;
    }
}
