using VmDebug.Cli;
using VmDebug.Engine;
using VmDebug.Engine.Compression;
using VmDebug.Engine.Dump;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Tests.Vmcore;

/// <summary>The shared kdump header model: what Write puts in a span, Read gives back, at makedumpfile's offsets.</summary>
public sealed class KdumpHeaderModelTests
{
    [Fact]
    public void HeaderSubHeaderAndDescriptorRoundTripAtTheirOffsets()
    {
        var header = new DiskDumpHeader
        {
            Utsname = ["Linux", "node", "6.1.0-57-cloud-amd64", "#1 SMP", "x86_64", "(none)"],
            Timestamp = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000),
            Status = DumpFormats.Of(DumpFormat.KdumpZstd).HeaderStatus,
            BlockSize = 4096,
            SubHeaderBlocks = 3,
            BitmapBlocks = 10,
            MaxMapnr32 = 0x12345,
            NrCpus = 2,
        };
        var bytes = new byte[KdumpLayout.DiskDumpHeaderSize];
        header.Write(bytes);
        Assert.True(DiskDumpHeader.HasSignature(bytes));
        var read = DiskDumpHeader.Read(bytes);
        Assert.Equal(header.Utsname, read.Utsname);
        Assert.Equal(header with { Utsname = read.Utsname }, read);
        Assert.Equal(0x20, BitConverter.ToInt32(bytes, 424)); // status, as makedumpfile's diskdump_mod.h places it
        Assert.Equal(0x12345u, BitConverter.ToUInt32(bytes, 440));

        var sub = new KdumpSubHeader { PhysBase = -434110464, DumpLevel = 31, OffsetNote = 4200, SizeNote = 900, MaxMapnr64 = 1UL << 40 };
        var subBytes = new byte[KdumpLayout.SubHeaderSize];
        sub.Write(subBytes);
        Assert.Equal(sub, KdumpSubHeader.Read(subBytes));
        Assert.Equal(31, BitConverter.ToInt32(subBytes, 8));
        Assert.Equal(1UL << 40, BitConverter.ToUInt64(subBytes, 96));

        var descriptor = new PageDescriptor(1L << 33, 1234, DumpFormats.Of(DumpFormat.KdumpLzo).PageFlag, 7);
        var descBytes = new byte[KdumpLayout.PageDescSize];
        descriptor.Write(descBytes);
        Assert.Equal(descriptor, PageDescriptor.Read(descBytes));
    }

    [Fact]
    public void FormatTableMapsEveryCodecBothWays()
    {
        foreach (var compression in new[] { PageCompression.Zlib, PageCompression.Lzo, PageCompression.Snappy, PageCompression.Zstd })
        {
            var row = Assert.IsType<DumpFormatTraits>(DumpFormats.OfCompression(compression));
            Assert.Equal(compression, DumpFormats.CompressionOfPageFlag(row.PageFlag));
            Assert.Equal(row.Format, DumpFormats.Parse(row.QmpName));
        }
        Assert.Equal(0x27u, DumpFormats.CompressionPageFlags);
        Assert.Null(DumpFormats.CompressionOfPageFlag(0x3));
        var unsupported = Assert.Throws<VmDebugException>(() => DumpFormats.LibvirtFormatOf(DumpFormat.KdumpZstd));
        Assert.Equal("KdumpZstd", unsupported.Target?.ToString());
        // The remedy is data, spelled by each front end: the message names no cmdlet.
        Assert.DoesNotContain("Convert-Vmcore", unsupported.Message, StringComparison.Ordinal);
        Assert.Equal("Dump with --format elf or --format kdump-zlib, then convert it with vmdebug convert --format kdump-zstd.",
            unsupported.Remedy!.Render(CliOutput.CliSpelling));
    }
}
