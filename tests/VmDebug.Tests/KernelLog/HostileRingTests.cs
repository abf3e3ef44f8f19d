using System.Diagnostics;
using VmDebug.Engine;
using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.KernelLog;
using VmDebug.Engine.Vmcore;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.KernelLog;

/// <summary>
/// A real dump's printk ring, its descriptors, infos, text and the page tables that map them, overwritten with random
/// bytes in 10,000 cases: the readers end with a typed error or a (partial) log, each case within 5 s and 64 MiB.
/// </summary>
[Collection(Kernel61Collection.Name)]
public sealed class HostileRingTests(Kernel61Fixture fixture)
{
    private const int Cases = 10_000;
    private const long MaxAllocatedBytes = 64L << 20;

    [Fact]
    public void TenThousandMutatedRingsEndInTypedErrorsOrPartialLogsQuicklyAndBounded()
    {
        fixture.SkipIfUnavailable();
        using var clean = new CleanRead(fixture.RepairedElf);
        Assert.Empty(clean.Log.Warnings);
        var (info, dump, recording) = (clean.Info, clean.Dump, clean.Recording);
        var targets = clean.Targets();
        Assert.All(targets, t => Assert.NotEmpty(t.Pages));

        var random = new Random(20261201);
        var outcomes = new Dictionary<string, int>();
        var slowest = TimeSpan.Zero;
        long mostAllocated = 0;
        for (var i = 0; i < Cases; i++)
        {
            var target = targets[i % targets.Length];
            var memory = new MutatedMemory(dump, recording.Pages);
            for (var m = random.Next(1, 4); m > 0; m--)
            {
                var page = target.Pages[random.Next(target.Pages.Count)];
                var offset = random.Next(4096);
                var bytes = new byte[Math.Min(random.Next(1, 257), 4096 - offset)];
                random.NextBytes(bytes);
                memory.Overwrite(page * 4096 + (ulong)offset, bytes);
            }

            var clock = Stopwatch.StartNew();
            var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            string outcome;
            try
            {
                var log = GuestKernelLog.Read(new GuestKernelSession(memory, info, [], null, []));
                _ = log.ToMakedumpfileText();
                _ = log.ToKmsgRecords();
                outcome = log.Warnings.Count > 0 ? "partial with warning" : "log";
            }
            catch (VmDebugException e)
            {
                outcome = e.ErrorId;
            }
            var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            clock.Stop();
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"case {i} ({target.Name}) took {clock.Elapsed}");
            Assert.True(allocated <= MaxAllocatedBytes, $"case {i} ({target.Name}) allocated {allocated} bytes");
            slowest = clock.Elapsed > slowest ? clock.Elapsed : slowest;
            mostAllocated = Math.Max(mostAllocated, allocated);
            outcomes[$"{target.Name}: {outcome}"] = outcomes.GetValueOrDefault($"{target.Name}: {outcome}") + 1;
        }
        TestContext.Current.SendDiagnosticMessage($"slowest case {slowest.TotalMilliseconds:F1} ms, most allocated {mostAllocated >> 10} KiB; "
            + string.Join("; ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} x{o.Value}")));
        // Mutations of the text and infos leave the ring walkable: some cases must still give a log.
        Assert.Contains(outcomes.Keys, k => k.EndsWith(": log", StringComparison.Ordinal) || k.EndsWith("warning", StringComparison.Ordinal));
    }

    /// <summary>
    /// A page of the text ring that the source lacks (a dump cut short, or one that left the page out) costs only the
    /// records whose text is on it: the rest of the log is read, and a warning counts what is missing. Without any of
    /// the text, the read is a typed error.
    /// </summary>
    [Fact]
    public void AMissingTextPageCostsOnlyTheRecordsOnIt()
    {
        fixture.SkipIfUnavailable();
        using var clean = new CleanRead(fixture.RepairedElf);
        var (info, dump) = (clean.Info, clean.Dump);
        var textPages = clean.Targets().Single(t => t.Name == "text ring").Pages;
        var read = textPages.Where(clean.Recording.Pages.ContainsKey).ToList();
        Assert.True(read.Count >= 3, $"the test guest's log should fill at least 3 text pages, not {read.Count}");

        var lacking = read[read.Count / 2];
        var log = GuestKernelLog.Read(new GuestKernelSession(new LackingMemory(dump, new HashSet<ulong> { lacking }), info, [], null, []));

        var missing = clean.Log.Entries.Count - log.Entries.Count;
        Assert.InRange(missing, 1, 4096 / 16); // a record is at least its 8-byte id and 8 bytes of text
        Assert.Equal($"The text of {missing} printk records could not be read (their pages of the text ring are not in the source); those records are missing.",
            Assert.Single(log.Warnings));
        var bySequence = clean.Log.Entries.ToDictionary(e => e.Sequence);
        Assert.All(log.Entries, e => Assert.Equal(bySequence[e.Sequence].Text.ToArray(), e.Text.ToArray()));
        Assert.Contains(log.Entries, e => e.Sequence > clean.Log.Entries[^1].Sequence - 3); // records after the page are there

        var none = Assert.Throws<GuestKernelException>(() =>
            GuestKernelLog.Read(new GuestKernelSession(new LackingMemory(dump, textPages.ToHashSet()), info, [], null, [])));
        Assert.Equal(GuestKernelException.AddressUnmapped, none.ErrorId);
        Assert.Contains("the printk text ring", none.Message);
    }

    /// <summary>The dump without the given physical pages, as a source that never had them.</summary>
    private sealed class LackingMemory(IGuestPhysicalMemory inner, IReadOnlySet<ulong> lacking) : IGuestPhysicalMemory
    {
        public string Name => inner.Name;

        public IReadOnlyList<PhysicalRange> Ranges => inner.Ranges;

        public bool TryRead(ulong address, Span<byte> buffer)
        {
            for (var page = address / 4096; page <= (address + (ulong)Math.Max(buffer.Length, 1) - 1) / 4096; page++)
            {
                if (lacking.Contains(page))
                {
                    return false;
                }
            }
            return inner.TryRead(address, buffer);
        }
    }

    /// <summary>The real dump opened, and a clean read of its log that records every page the readers touch: the
    /// cases then change or withhold copies of those pages.</summary>
    private sealed class CleanRead : IDisposable
    {
        private readonly VmcoreReader _reader;

        public CleanRead(string path)
        {
            _reader = VmcoreFile.Open(path);
            Info = _reader.VmcoreInfo!;
            Dump = new DumpPhysicalMemory(_reader, path);
            Recording = new RecordingMemory(Dump);
            Log = GuestKernelLog.Read(new GuestKernelSession(Recording, Info, [], null, []));
        }

        public VmcoreInfo Info { get; }

        public DumpPhysicalMemory Dump { get; }

        public RecordingMemory Recording { get; }

        public GuestKernelLog Log { get; }

        public Target[] Targets() => HostileRingTests.Targets(new KernelMemoryView(Dump, Info), Info, Recording.Pages.Keys.ToHashSet());

        public void Dispose() => _reader.Dispose();
    }

    private sealed record Target(string Name, List<ulong> Pages);

    /// <summary>The physical pages of each structure: ring header, descriptors, infos, text, and the page tables among the touched pages.</summary>
    private static Target[] Targets(KernelMemoryView view, VmcoreInfo info, HashSet<ulong> touched)
    {
        var rb = view.ReadUInt64(info.Symbol("prb")!.Value, "prb");
        var header = view.ReadBytes(rb, (long)info.Size("printk_ringbuffer")!.Value, "ring");
        var countBits = BitConverter.ToUInt32(header, (int)(info.Offset("printk_ringbuffer", "desc_ring")!.Value + info.Offset("prb_desc_ring", "count_bits")!.Value));
        var descs = BitConverter.ToUInt64(header, (int)(info.Offset("printk_ringbuffer", "desc_ring")!.Value + info.Offset("prb_desc_ring", "descs")!.Value));
        var infos = BitConverter.ToUInt64(header, (int)(info.Offset("printk_ringbuffer", "desc_ring")!.Value + info.Offset("prb_desc_ring", "infos")!.Value));
        var textRing = info.Offset("printk_ringbuffer", "text_data_ring")!.Value;
        var sizeBits = BitConverter.ToUInt32(header, (int)(textRing + info.Offset("prb_data_ring", "size_bits")!.Value));
        var text = BitConverter.ToUInt64(header, (int)(textRing + info.Offset("prb_data_ring", "data")!.Value));
        List<ulong> PagesOf(ulong va, ulong length)
        {
            var pages = new List<ulong>();
            for (var at = va & ~0xfffUL; at < va + length; at += 4096)
            {
                pages.Add(view.Translate(at)!.Value / 4096);
            }
            return pages;
        }
        var count = 1UL << (int)countBits;
        var header0 = PagesOf(rb, (ulong)header.Length);
        var descPages = PagesOf(descs, count * info.Size("prb_desc")!.Value);
        var infoPages = PagesOf(infos, count * info.Size("printk_info")!.Value);
        var textPages = PagesOf(text, 1UL << (int)sizeBits);
        var known = header0.Concat(descPages).Concat(infoPages).Concat(textPages).ToHashSet();
        var tables = touched.Where(p => !known.Contains(p)).ToList();
        return
        [
            new("ring header", header0), new("descriptors", descPages), new("infos", infoPages),
            new("text ring", textPages), new("page tables", tables),
        ];
    }

    /// <summary>Passes reads through and keeps a copy of every page read.</summary>
    private sealed class RecordingMemory(IGuestPhysicalMemory inner) : IGuestPhysicalMemory
    {
        public Dictionary<ulong, byte[]> Pages { get; } = new();

        public string Name => inner.Name;

        public IReadOnlyList<PhysicalRange> Ranges => inner.Ranges;

        public bool TryRead(ulong address, Span<byte> buffer)
        {
            for (var page = address / 4096; page <= (address + (ulong)Math.Max(buffer.Length, 1) - 1) / 4096; page++)
            {
                if (!Pages.ContainsKey(page))
                {
                    var copy = new byte[4096];
                    if (inner.TryRead(page * 4096, copy))
                    {
                        Pages[page] = copy;
                    }
                }
            }
            return inner.TryRead(address, buffer);
        }
    }

    /// <summary>The recorded pages with some bytes overwritten (copy on write); other pages from the dump.</summary>
    private sealed class MutatedMemory(IGuestPhysicalMemory dump, Dictionary<ulong, byte[]> recorded) : IGuestPhysicalMemory
    {
        private readonly Dictionary<ulong, byte[]> _mutated = new();

        public string Name => dump.Name;

        public IReadOnlyList<PhysicalRange> Ranges => dump.Ranges;

        public void Overwrite(ulong address, ReadOnlySpan<byte> bytes)
        {
            var page = address / 4096;
            if (!_mutated.TryGetValue(page, out var copy))
            {
                copy = new byte[4096];
                if (recorded.TryGetValue(page, out var original))
                {
                    original.CopyTo(copy, 0);
                }
                else if (!dump.TryRead(page * 4096, copy))
                {
                    return; // not in the dump: nothing to overwrite
                }
                _mutated[page] = copy;
            }
            bytes.CopyTo(copy.AsSpan((int)(address % 4096)));
        }

        public bool TryRead(ulong address, Span<byte> buffer)
        {
            for (var done = 0; done < buffer.Length;)
            {
                var at = address + (ulong)done;
                var page = at / 4096;
                var within = (int)(at % 4096);
                var n = Math.Min(4096 - within, buffer.Length - done);
                if (_mutated.TryGetValue(page, out var bytes) || recorded.TryGetValue(page, out bytes))
                {
                    bytes.AsSpan(within, n).CopyTo(buffer[done..]);
                }
                else if (!dump.TryRead(at, buffer.Slice(done, n)))
                {
                    return false;
                }
                done += n;
            }
            return true;
        }
    }
}
