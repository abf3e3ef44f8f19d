using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using K4os.Compression.LZ4;
using VmDebug.Engine.Compression;
using VmDebug.Engine.Pstore;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Pstore;

/// <summary>
/// Zones built byte for byte from the kernel's format (KernelZoneWriter follows ram_core.c) in synthetic guest RAM:
/// console, pmsg and ftrace zones (not in Debian's kernels), wrapped and unwrapped; dmesg records in every codec;
/// ECC parity skipped, checked and never read as data; corrupt headers and garbage never crash or hang.
/// </summary>
public sealed class PstoreZoneTests
{
    private const ulong Base = 0x100000;
    private const uint Dbgc = 0x43474244;
    private const uint Version61 = (6 << 16) | (1 << 8) | 158;

    /// <summary>1 dmesg zone of 8 KiB, console 4 KiB, ftrace 4 KiB over 2 CPUs, pmsg 4 KiB.</summary>
    private static PstoreLayout Layout(int ecc = 0) => new()
    {
        MemAddress = Base,
        MemSize = 0x5000,
        RecordSize = 0x2000,
        ConsoleSize = 0x1000,
        FtraceSize = 0x1000,
        PmsgSize = 0x1000,
        EccSize = ecc,
        Cpus = 2,
    };

    private static SparsePhysicalMemory EmptyRegion(PstoreLayout layout, out IReadOnlyList<PstoreZoneSpec> zones)
    {
        var memory = new SparsePhysicalMemory(16 << 20);
        zones = layout.Zones("test");
        foreach (var zone in zones)
        {
            memory.Write(zone.Address, new KernelZoneWriter((int)zone.Size, Dbgc ^ (zone.Kind == PstoreKind.Ftrace ? Version61 : 0), layout.EccSize).Bytes);
        }
        return memory;
    }

    private static PstoreReadResult Decode(SparsePhysicalMemory memory, PstoreLayout layout, GuestBootFacts? facts = null) =>
        PstoreReader.Decode(memory, layout, "parameters", facts ?? GuestBootFacts.None, [], TestContext.Current.CancellationToken);

    private static KernelZoneWriter Writer(PstoreZoneSpec zone, int ecc = 0) =>
        new((int)zone.Size, Dbgc ^ (zone.Kind == PstoreKind.Ftrace ? Version61 : 0), ecc);

    [Fact]
    public void LayoutCarvesTheRegionAsRamoopsProbeDoes()
    {
        // 1 MiB with 128 KiB records and the 4 KiB defaults: 7 dmesg zones sharing 1 MiB - 12 KiB, each a seventh of it
        // rounded down to even (0x24248 apart, as Debian's 6.1 kernel placed its signatures).
        var warnings = new List<string>();
        var layout = PstoreLayout.FromCommandLine(
            "console=ttyS0 memmap=1M$0x30000000 ramoops.mem_address=0x30000000 ramoops.mem_size=0x100000 ramoops.record_size=0x20000 quiet", 1, warnings)!;
        var zones = layout.Zones("test");
        var dumpBytes = 0x100000UL - 3 * 4096;
        Assert.Equal(7, zones.Count(z => z.Kind == PstoreKind.Dmesg));
        Assert.All(zones.Where(z => z.Kind == PstoreKind.Dmesg), z => Assert.Equal(0x24248UL, z.Size));
        var console = zones.Single(z => z.Kind == PstoreKind.Console);
        Assert.Equal(0x30000000UL + 0xfcff8, console.Address);
        Assert.Equal(dumpBytes / 7, (layout with { EvenZoneSizes = false }).Zones("test")[0].Size); // kernels before the fix
        Assert.Equal(console.Address + 4096, zones.Single(z => z.Kind == PstoreKind.Ftrace).Address);
        Assert.Equal(console.Address + 8192, zones.Single(z => z.Kind == PstoreKind.Pmsg).Address);
        Assert.Empty(warnings);
        Assert.Null(PstoreLayout.FromCommandLine("console=ttyS0 ramoops.record_size=4096", 1, warnings));
        // Suffixes are not kernel integers for module parameters: ignored, and said so.
        Assert.Null(PstoreLayout.FromCommandLine("ramoops.mem_address=0x1000 ramoops.mem_size=1M", 1, warnings));
        Assert.Contains(warnings, w => w.Contains("ramoops.mem_size=1M", StringComparison.Ordinal));
    }

    [Fact]
    public void ZonesOfKernelsBeforeTheEvenSizeFixAreFoundToo()
    {
        var layout = new PstoreLayout { MemAddress = Base, MemSize = 0x100000, RecordSize = 0x20000 };
        var old = layout with { EvenZoneSizes = false };
        var memory = EmptyRegion(old, out var zones);
        var last = zones.Last(z => z.Kind == PstoreKind.Dmesg);
        var writer = Writer(last);
        writer.Write("====7.000000-D\nOops#1 Part1\nan oops\n"u8);
        memory.Write(last.Address, writer.Bytes);
        var result = Decode(memory, layout);
        Assert.Equal(("Oops", 6), (Assert.Single(result.Records, r => r.Kind == PstoreKind.Dmesg).Reason, result.Records[0].Zone));
        Assert.False(result.Layout.EvenZoneSizes);
        Assert.DoesNotContain(result.Warnings, w => w.Contains("signature", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(PstoreKind.Console, false)]
    [InlineData(PstoreKind.Console, true)]
    [InlineData(PstoreKind.Pmsg, false)]
    [InlineData(PstoreKind.Pmsg, true)]
    public void TextZonesDecodeWrappedAndUnwrapped(PstoreKind kind, bool wrap)
    {
        var layout = Layout();
        var memory = EmptyRegion(layout, out var zones);
        var zone = zones.Single(z => z.Kind == kind);
        var writer = Writer(zone);
        var written = new StringBuilder();
        for (var line = 0; written.Length < (wrap ? writer.BufferSize * 3 + 77 : writer.BufferSize / 2); line++)
        {
            var text = $"{kind} line {line} of the guest\n";
            written.Append(text);
            writer.Write(Encoding.ASCII.GetBytes(text));
        }
        memory.Write(zone.Address, writer.Bytes);
        Assert.Equal(wrap, writer.Start != writer.Size);

        var record = Assert.Single(Decode(memory, layout).Records, r => r.Kind == kind);
        var all = written.ToString();
        Assert.Equal(wrap ? all[^writer.BufferSize..] : all, record.Text);
        Assert.Null(record.Reason);
        Assert.Null(record.Time);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FtraceZonesDecodePerCpuWrappedAndUnwrapped(bool wrap)
    {
        var layout = Layout();
        var memory = EmptyRegion(layout, out var zones);
        var expected = new Dictionary<int, List<string>>();
        foreach (var zone in zones.Where(z => z.Kind == PstoreKind.Ftrace))
        {
            var writer = Writer(zone);
            var lines = expected[zone.Index] = [];
            var count = wrap ? writer.BufferSize / 24 * 2 + 5 : 10;
            for (var i = 0; i < count; i++)
            {
                var record = new byte[24];
                var ip = 0xffffffff81000000UL + (ulong)(i * 16);
                var parent = 0xffffffff82000000UL + (ulong)i;
                var ts = ((ulong)(1000 + i) << 8) | (uint)zone.Index; // the CPU sits in the low 8 bits
                BinaryPrimitives.WriteUInt64LittleEndian(record, ip);
                BinaryPrimitives.WriteUInt64LittleEndian(record.AsSpan(8), parent);
                BinaryPrimitives.WriteUInt64LittleEndian(record.AsSpan(16), ts);
                writer.Write(record);
                lines.Add($"CPU:{zone.Index} ts:{(ulong)(1000 + i) << 8} {ip:x8}  {parent:x8}");
            }
            memory.Write(zone.Address, writer.Bytes);
            if (wrap)
            {
                // Only whole records survive the wrap: as many as fit, the newest.
                lines.RemoveRange(0, lines.Count - writer.BufferSize / 24);
            }
        }
        var records = Decode(memory, layout).Records.Where(r => r.Kind == PstoreKind.Ftrace).ToList();
        Assert.Equal(2, records.Count);
        foreach (var record in records)
        {
            Assert.Equal(expected[record.Zone], record.Text.TrimEnd('\n').Split('\n'));
        }
    }

    public static TheoryData<string> Codecs => new() { "none", "deflate", "zlib", "lz4", "zstd" };

    [Theory]
    [MemberData(nameof(Codecs))]
    public void DmesgRecordsDecodeInEveryCodec(string codec)
    {
        var layout = Layout();
        var memory = EmptyRegion(layout, out var zones);
        var zone = zones.First(z => z.Kind == PstoreKind.Dmesg);
        var log = new StringBuilder("Panic#3 Part1\n");
        for (var i = 0; i < 60; i++)
        {
            log.Append($"<6>[    1.{i:D6}] line {i} of the log before the panic\n");
        }
        log.Append("<0>[    2.000000] Kernel panic - not syncing: sysrq triggered crash\n\u001b[31m");
        var plain = Encoding.ASCII.GetBytes(log.ToString());
        var payload = Compress(codec, plain);
        var writer = Writer(zone);
        writer.Write(Encoding.ASCII.GetBytes($"====1796110725.098312-{(codec == "none" ? 'D' : 'C')}\n"));
        writer.Write(payload);
        memory.Write(zone.Address, writer.Bytes);

        var record = Assert.Single(Decode(memory, layout).Records, r => r.Kind == PstoreKind.Dmesg);
        Assert.Equal(("Panic", 3, 1), (record.Reason, record.Count, record.Part));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1796110725).AddTicks(98312 * 10), record.Time);
        Assert.Equal(codec != "none", record.Compressed);
        Assert.Equal(codec == "none" ? null : codec, record.Codec);
        // The escape sequence the "guest" left at the end reaches the host escaped.
        Assert.Equal(log.ToString().Replace("\u001b", "\\x1b", StringComparison.Ordinal), record.Text);
        Assert.Equal("<0>[    2.000000] Kernel panic - not syncing: sysrq triggered crash", record.Summary);
    }

    private static byte[] Compress(string codec, byte[] plain)
    {
        switch (codec)
        {
            case "none":
                return plain;
            case "deflate":
            case "zlib":
                using (var output = new MemoryStream())
                {
                    using (Stream compressor = codec == "deflate" ? new DeflateStream(output, CompressionLevel.Optimal) : new ZLibStream(output, CompressionLevel.Optimal))
                    {
                        compressor.Write(plain);
                    }
                    return output.ToArray();
                }
            case "lz4":
                var lz4 = new byte[LZ4Codec.MaximumOutputSize(plain.Length)];
                return lz4[..LZ4Codec.Encode(plain, lz4)];
            default:
                var zstd = PageCodec.Get(PageCompression.Zstd);
                var buffer = new byte[zstd.MaxCompressedLength(plain.Length)];
                return buffer[..zstd.Compress(plain, buffer)];
        }
    }

    [Fact]
    public void EccParityIsSkippedAsDataAndChecked()
    {
        var layout = Layout(ecc: 16);
        var memory = EmptyRegion(layout, out var zones);
        var zone = zones.Single(z => z.Kind == PstoreKind.Console);
        var writer = Writer(zone, ecc: 16);
        var text = string.Concat(Enumerable.Range(0, 400).Select(i => $"console {i}\n"));
        writer.Write(Encoding.ASCII.GetBytes(text)); // wraps: more than the buffer the parity leaves
        memory.Write(zone.Address, writer.Bytes);

        var clean = Decode(memory, layout);
        Assert.Equal(text[^writer.BufferSize..], Assert.Single(clean.Records, r => r.Kind == PstoreKind.Console).Text);
        Assert.DoesNotContain(clean.Warnings, w => w.Contains("ECC", StringComparison.Ordinal));

        // One flipped data byte: the parity no longer matches, and the reader says so.
        memory.Write(zone.Address + PstoreLayout.HeaderSize + 200, [(byte)(writer.Bytes[PstoreLayout.HeaderSize + 200] ^ 0x40)]);
        var damaged = Decode(memory, layout);
        Assert.Contains(damaged.Warnings, w => w.Contains("ECC parity differs in 1 of", StringComparison.Ordinal));

        // Read without ECC, the same zone is garbage at its end (parity taken as data); with the right ECC it is not.
        Assert.NotEqual(text[^writer.BufferSize..], Decode(memory, Layout()).Records.FirstOrDefault(r => r.Kind == PstoreKind.Console)?.Text);
    }

    [Fact]
    public void CorruptHeadersAreSkippedWithAWarningAndGarbageIsATypedError()
    {
        var layout = Layout();
        var memory = EmptyRegion(layout, out var zones);
        var dmesg = zones.First(z => z.Kind == PstoreKind.Dmesg);
        var writer = Writer(dmesg);
        writer.Write(Encoding.ASCII.GetBytes("====1.000000-D\nPanic#1 Part1\ntext\n"));
        writer.Size = 0x7fffffff; // larger than the buffer
        memory.Write(dmesg.Address, writer.Bytes);
        var console = Writer(zones.Single(z => z.Kind == PstoreKind.Console));
        console.Write("console\n"u8);
        console.Start = console.Size + 1; // start past size
        memory.Write(zones.Single(z => z.Kind == PstoreKind.Console).Address, console.Bytes);

        var result = Decode(memory, layout);
        Assert.Empty(result.Records);
        Assert.Contains(result.Warnings, w => w.StartsWith("dmesg zone 0", StringComparison.Ordinal) && w.Contains("header is corrupt", StringComparison.Ordinal));
        Assert.Contains(result.Warnings, w => w.StartsWith("console zone 0", StringComparison.Ordinal) && w.Contains("header is corrupt", StringComparison.Ordinal));

        // A dmesg zone whose header is fine but whose record is not: no "====" header, or "compressed" noise.
        writer.Zap();
        writer.Write("not a ramoops record"u8);
        memory.Write(dmesg.Address, writer.Bytes);
        Assert.Contains(Decode(memory, layout).Warnings, w => w.Contains("no \"====sec.usec-C|D\" header", StringComparison.Ordinal));
        writer.Zap();
        writer.Write("====5.000001-C\n"u8);
        writer.Write(Enumerable.Range(0, 3000).Select(i => (byte)(i * 7919 >> 3)).ToArray());
        memory.Write(dmesg.Address, writer.Bytes);
        Assert.Contains(Decode(memory, layout).Warnings, w => w.Contains("no codec", StringComparison.Ordinal));

        // Random bytes over the whole region, many times: a typed error or warnings, never anything else, never a hang.
        var random = new Random(16);
        for (var round = 0; round < 200; round++)
        {
            var garbage = new byte[layout.MemSize];
            random.NextBytes(garbage);
            if (round % 2 == 1)
            {
                // Keep the signatures, so the corrupt start/size/data behind them are what gets parsed.
                foreach (var zone in zones)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(garbage.AsSpan((int)(zone.Address - Base)), Dbgc ^ (zone.Kind == PstoreKind.Ftrace ? Version61 : 0));
                    BinaryPrimitives.WriteUInt32LittleEndian(garbage.AsSpan((int)(zone.Address - Base) + 8), (uint)random.Next(0, (int)zone.Size));
                    BinaryPrimitives.WriteUInt32LittleEndian(garbage.AsSpan((int)(zone.Address - Base) + 4), (uint)random.Next(0, 64));
                }
            }
            memory.Write(Base, garbage);
            try
            {
                var decoded = Decode(memory, layout);
                Assert.All(decoded.Records, r => Assert.DoesNotContain('\u001b', r.Text));
            }
            catch (PstoreException e)
            {
                Assert.Equal(PstoreException.NoRegion, e.ErrorId);
            }
        }
    }

    [Fact]
    public void EmptyZonesAfterAPanicAreThePausedCaseAndWithoutOneNoRecordYet()
    {
        var layout = Layout();
        var memory = EmptyRegion(layout, out _);
        var noRecord = Decode(memory, layout);
        Assert.Empty(noRecord.Records);
        Assert.Contains(noRecord.Warnings, w => w.Contains("holds no dmesg record yet", StringComparison.Ordinal));

        var facts = GuestBootFactsFor("Kernel panic - not syncing: sysrq triggered crash");
        var paused = Assert.Throws<PstoreException>(() => Decode(memory, layout, facts));
        Assert.Equal(PstoreException.PausedBeforeWrite, paused.ErrorId);
        Assert.Contains("-action panic=none", paused.Message, StringComparison.Ordinal);
        Assert.Contains("panic=N", paused.Message, StringComparison.Ordinal);

        var nothing = new SparsePhysicalMemory(16 << 20);
        Assert.Equal(PstoreException.NoRegion, Assert.Throws<PstoreException>(() => Decode(nothing, layout)).ErrorId);
        Assert.Equal(PstoreException.RegionUnreadable,
            Assert.Throws<PstoreException>(() => Decode(nothing, layout with { MemAddress = 15 << 20, MemSize = 2 << 20 })).ErrorId);
        Assert.Equal(PstoreException.LayoutInvalid,
            Assert.Throws<PstoreException>(() => Decode(nothing, layout with { MemSize = 0x2000 })).ErrorId);
    }

    private static GuestBootFacts GuestBootFactsFor(string line) => GuestBootFacts.FromLines(["Command line: console=ttyS0", line]);
}
