using System.Buffers.Binary;
using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Tests.Support;

/// <summary>Guest-physical memory built by a test page by page; pages never written are absent.</summary>
internal sealed class SparsePhysicalMemory(ulong ramBytes) : IGuestPhysicalMemory
{
    private readonly Dictionary<ulong, byte[]> _pages = new();

    public string Name => "synthetic";

    public IReadOnlyList<PhysicalRange> Ranges { get; } = [new PhysicalRange(0, ramBytes)];

    public int Reads { get; private set; }

    public void Write(ulong address, ReadOnlySpan<byte> bytes)
    {
        for (var done = 0; done < bytes.Length;)
        {
            var at = address + (ulong)done;
            var page = PageFor(at / 4096);
            var within = (int)(at % 4096);
            var n = Math.Min(4096 - within, bytes.Length - done);
            bytes.Slice(done, n).CopyTo(page.AsSpan(within));
            done += n;
        }
    }

    public void WriteUInt64(ulong address, ulong value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        Write(address, bytes);
    }

    public bool TryRead(ulong address, Span<byte> buffer)
    {
        Reads++;
        for (var done = 0; done < buffer.Length;)
        {
            var at = address + (ulong)done;
            if (at >= ramBytes)
            {
                return false;
            }
            var within = (int)(at % 4096);
            var n = Math.Min(4096 - within, buffer.Length - done);
            if (_pages.TryGetValue(at / 4096, out var page))
            {
                page.AsSpan(within, n).CopyTo(buffer[done..]);
            }
            else
            {
                buffer.Slice(done, n).Clear(); // RAM never written reads as zero, as in a real dump
            }
            done += n;
        }
        return true;
    }

    private byte[] PageFor(ulong pfn)
    {
        if (!_pages.TryGetValue(pfn, out var page))
        {
            _pages[pfn] = page = new byte[4096];
        }
        return page;
    }
}
