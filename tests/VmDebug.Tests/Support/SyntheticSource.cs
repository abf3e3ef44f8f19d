using System.Text;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Tests.Support;

/// <summary>
/// Guest memory the tests make up: known page contents (zero, text-like compressible, random incompressible)
/// over given ranges, plus a QEMU-like set of notes and an optional VMCOREINFO.
/// </summary>
internal sealed class SyntheticSource : IGuestMemorySource
{
    public const int Page = 4096;
    private readonly Dictionary<ulong, byte[]> _pages = new();

    public SyntheticSource(IReadOnlyList<PhysicalRange> ranges, string? vmcoreinfo, int seed = 1, ISet<ulong>? absent = null)
    {
        Ranges = ranges;
        var random = new Random(seed);
        var notes = new List<ElfNote>
        {
            new("CORE", 1, Bytes(random, 336)),
            new("QEMU", 0, Bytes(random, 432)),
        };
        if (vmcoreinfo is not null)
        {
            notes.Add(new ElfNote("VMCOREINFO", 0, Encoding.ASCII.GetBytes(vmcoreinfo)));
        }
        Notes = notes;
        foreach (var range in ranges)
        {
            for (var pfn = range.Start / Page; pfn < range.End / Page; pfn++)
            {
                if (absent?.Contains(pfn) == true)
                {
                    continue;
                }
                var page = new byte[Page];
                switch (pfn % 4)
                {
                    case 0:
                        break; // zero page
                    case 1:
                        Encoding.ASCII.GetBytes($"page {pfn} says hello; ".PadRight(64, '.').Substring(0, 64)).CopyTo(page, 0);
                        for (var i = 64; i < Page; i++)
                        {
                            page[i] = page[i % 64];
                        }
                        break;
                    case 2:
                        random.NextBytes(page); // incompressible: stored raw
                        break;
                    default:
                        for (var i = 0; i < Page; i += 8)
                        {
                            BitConverter.TryWriteBytes(page.AsSpan(i), pfn * 0x1000 + (ulong)i);
                        }
                        break;
                }
                _pages[pfn] = page;
            }
        }
    }

    public const string PlausibleVmcoreInfo =
        "OSRELEASE=6.1.0-28-cloud-amd64\nBUILD-ID=0123456789abcdef0123456789abcdef01234567\nPAGESIZE=4096\n"
        + "SYMBOL(init_uts_ns)=ffffffffa2a1e000\nSYMBOL(prb)=ffffffffa2898d40\nSIZE(printk_ringbuffer)=80\n"
        + "OFFSET(printk_ringbuffer.desc_ring)=0\nNUMBER(phys_base)=-434110464\nNUMBER(pgtable_l5_enabled)=0\n"
        + "KERNELOFFSET=20600000\n";

    public int PageSize => Page;

    public IReadOnlyList<PhysicalRange> Ranges { get; }

    public IReadOnlyList<ElfNote> Notes { get; }

    public IEnumerable<ulong> PresentPfns => _pages.Keys.Order();

    public bool ReadPage(ulong pfn, Span<byte> page)
    {
        if (_pages.TryGetValue(pfn, out var bytes))
        {
            bytes.CopyTo(page);
            return true;
        }
        page[..Page].Clear();
        return false;
    }

    public byte[] Expected(ulong pfn) => _pages.TryGetValue(pfn, out var bytes) ? bytes : new byte[Page];

    public void Dispose()
    {
    }

    private static byte[] Bytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Three ranges with a hole, like a small q35 guest's low memory and a ROM at the top.</summary>
    public static PhysicalRange[] SmallRanges =>
    [
        new(0, 0xa0000),
        new(0x100000, 0x80000),
        new(0xfffc0000, 0x40000),
    ];
}

internal static class TempFiles
{
    public static string NewDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "vmdebug-vmcore-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        return path;
    }
}
