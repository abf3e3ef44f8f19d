using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.Vmcore;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.GuestKernel;

/// <summary>Page walks over page tables the test lays out itself, so every level, page size and mask is exercised.</summary>
public class KernelMemoryViewTests
{
    private const ulong PhysBase = 0x1000000; // image loaded 16 MiB above its link address
    private const ulong TopTable = PhysBase + 0x100000; // physical address of init_top_pgt, inside the kernel image
    private const ulong Present = 1, Large = 0x80;

    private static VmcoreInfo Info(int levels, ulong smeMask = 0) => VmcoreInfo.Parse(
        $"OSRELEASE=6.1.0\nPAGESIZE=4096\nNUMBER(phys_base)={PhysBase}\n"
        + $"SYMBOL(init_top_pgt)={unchecked(KernelMemoryView.StartKernelMap + TopTable - PhysBase):x}\n"
        + $"NUMBER(pgtable_l5_enabled)={(levels == 5 ? 1 : 0)}\nNUMBER(sme_mask)={smeMask}\nNUMBER(KERNEL_IMAGE_SIZE)=1073741824\n");

    private static int Index(ulong va, int level) => (int)((va >> (12 + 9 * (level - 1))) & 0x1ff);

    /// <summary>Maps <paramref name="va"/> through fresh tables from the top down to <paramref name="leafLevel"/>.</summary>
    private static void Map(SparsePhysicalMemory memory, int levels, ulong va, ulong target, int leafLevel, ulong entryBits = 0)
    {
        var table = TopTable;
        var next = 0x200000UL + (ulong)Index(va, levels) * 0x10000;
        for (var level = levels; level > leafLevel; level--)
        {
            memory.WriteUInt64(table + (ulong)Index(va, level) * 8, next | Present | entryBits);
            table = next;
            next += 0x1000;
        }
        memory.WriteUInt64(table + (ulong)Index(va, leafLevel) * 8, target | Present | entryBits | (leafLevel > 1 ? Large : 0));
    }

    [Fact]
    public void KernelImageAddressesTranslateThroughPhysBaseWithoutAWalk()
    {
        var memory = new SparsePhysicalMemory(64 << 20);
        var view = new KernelMemoryView(memory, Info(4));

        Assert.Equal(PhysBase + 0x123456, view.Translate(KernelMemoryView.StartKernelMap + 0x123456));
        Assert.Equal(4, view.PagingLevels);
    }

    [Theory]
    [InlineData(4, 1)]
    [InlineData(4, 2)]
    [InlineData(4, 3)]
    [InlineData(5, 1)]
    [InlineData(5, 2)]
    [InlineData(5, 3)]
    public void WalksEveryLevelAndPageSize(int levels, int leafLevel)
    {
        var memory = new SparsePhysicalMemory(8UL << 30);
        var va = levels == 5 ? 0xff11_2345_6789_a000UL : 0xffff_8881_2345_6000UL;
        var pageBytes = 1UL << (12 + 9 * (leafLevel - 1));
        var target = 0x4000_0000UL; // 1 GiB: aligned for every page size
        Map(memory, levels, va, target, leafLevel);
        var view = new KernelMemoryView(memory, Info(levels));

        var offset = 0x7b9UL;
        Assert.Equal(target + (va & (pageBytes - 1)) + offset, view.Translate(va + offset));
        Assert.Null(view.Translate(va ^ (1UL << 40))); // another top-level slot: not present
    }

    [Fact]
    public void SmeMaskIsStrippedFromEveryEntry()
    {
        const ulong cBit = 1UL << 47;
        var memory = new SparsePhysicalMemory(8UL << 30);
        var va = 0xffff_8881_0000_0000UL;
        Map(memory, 4, va, 0x3000_0000UL, 1, entryBits: cBit);
        var view = new KernelMemoryView(memory, Info(4, cBit));

        Assert.Equal(0x3000_0000UL, view.Translate(va));
    }

    [Fact]
    public void NonCanonicalAddressesAreUnmapped()
    {
        var memory = new SparsePhysicalMemory(64 << 20);
        var view = new KernelMemoryView(memory, Info(4));

        Assert.Null(view.Translate(0x0000_9000_0000_0000UL));
        Assert.False(view.TryRead(0x0000_9000_0000_0000UL, new byte[8]));
    }

    [Fact]
    public void ReadsAcrossPagesFollowTheirOwnTranslationsAndAreBounded()
    {
        var memory = new SparsePhysicalMemory(8UL << 30);
        var va = 0xffff_8881_2345_6000UL;
        Map(memory, 4, va, 0x5000_0000UL, 1);
        Map(memory, 4, va + 0x1000, 0x6000_0000UL, 1); // next virtual page, far away physically
        memory.Write(0x5000_0ffcUL, [1, 2, 3, 4]);
        memory.Write(0x6000_0000UL, [5, 6, 7, 8]);
        var view = new KernelMemoryView(memory, Info(4));

        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, view.ReadBytes(va + 0xffc, 8, "test bytes"));
        var unmapped = Assert.Throws<GuestKernelException>(() => view.ReadBytes(va + 0x1ffc, 8, "test bytes"));
        Assert.Equal(GuestKernelException.AddressUnmapped, unmapped.ErrorId);
        var tooLarge = Assert.Throws<GuestKernelException>(() => view.ReadBytes(va, (long)KernelMemoryView.MaxReadBytes + 1, "a huge ring"));
        Assert.Equal(GuestKernelException.ReadTooLarge, tooLarge.ErrorId);
    }

    [Fact]
    public void MissingPageTableRootIsATypedError()
    {
        var error = Assert.Throws<GuestKernelException>(() =>
            new KernelMemoryView(new SparsePhysicalMemory(1 << 20), VmcoreInfo.Parse("OSRELEASE=6.1\nNUMBER(phys_base)=0\n")));
        Assert.Equal(GuestKernelException.VmcoreInfoIncomplete, error.ErrorId);
    }
}
