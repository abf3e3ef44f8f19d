using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.KernelLog;
using VmDebug.Engine.PageFilter;
using VmDebug.Engine.Pstore;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Fuzz;

/// <summary>
/// Makes the guest-kernel seed from a real dump of a panicked guest: an ELF vmcore holding only the pages the engine
/// itself reads for the kernel log, the crash info (kallsyms), pstore, the page classification and the VMCOREINFO
/// found in RAM, with the dump's own notes. Beside it, which parser first read each page (page tables apart), so
/// a kind mutates the bytes its parser reads. Written gzipped: the pages are mostly text and zeros.
/// </summary>
internal static class KernelSeedMaker
{
    public const string PageTables = "page-tables";
    public const string Printk = "printk";
    public const string Kallsyms = "kallsyms";
    public const string StructPage = "struct-page";
    public const string Pstore = "pstore";
    public const string VmcoreInfoInRam = "vmcoreinfo-in-ram";

    public static async Task MakeAsync(string dump, string output)
    {
        using var reader = VmcoreFile.Open(dump);
        var info = reader.VmcoreInfo ?? throw new InvalidOperationException($"{dump} has no VMCOREINFO note");
        var labels = new Dictionary<ulong, string>();

        // The parsers that walk kernel structures read what they need from the whole dump.
        using (var tracing = new TracingSource(reader, reader.Ranges, labels))
        {
            var session = GuestKernelSession.Create(new DumpPhysicalMemory(tracing, dump), info, reader.Notes, null, CancellationToken.None);
            tracing.Phase = Printk;
            var log = GuestKernelLog.Read(session);
            tracing.Phase = Kallsyms;
            _ = KernelSymbols.TryLoad(session.View, out _) ?? throw new InvalidOperationException("no kallsyms in " + dump);
            _ = GuestCrashAnalyzer.Analyze(session);
            tracing.Phase = Pstore;
            var warnings = new List<string>();
            var facts = GuestBootFacts.From(log);
            var (layout, from) = PstoreReader.ResolveLayout(dump, new PstoreRequest { Target = new GuestKernelTarget { Path = dump } }, facts, warnings);
            PstoreReader.Decode(session.Memory, layout, from, facts, warnings, CancellationToken.None);
            // The scanner would read all of RAM: keep the page it finds and what it validates there.
            var located = VmcoreInfoLocator.Find(new DumpPhysicalMemory(reader, dump), [], CancellationToken.None)
                ?? throw new InvalidOperationException("no VMCOREINFO in the RAM of " + dump);
            tracing.Phase = VmcoreInfoInRam;
            using var near = new TracingSource(reader, [new PhysicalRange(located.PhysicalAddress, 4096)], labels) { Phase = VmcoreInfoInRam };
            VmcoreInfoLocator.Find(new DumpPhysicalMemory(near, dump), [], CancellationToken.None);
        }

        // The classifier reads struct pages for the frames in the ranges: those of the kept pages, until no new page is read.
        for (var round = 0; round < 8; round++)
        {
            var before = labels.Count;
            using var sparse = new TracingSource(reader, Runs(labels.Keys, reader.PageSize), labels) { Phase = StructPage };
            PageClassifier.Classify(sparse, 31, dump, CancellationToken.None);
            if (labels.Count == before)
            {
                break;
            }
        }

        Directory.CreateDirectory(output);
        var name = Path.Combine(output, $"guest-{info.OsRelease}");
        using (var kept = new TracingSource(reader, Runs(labels.Keys, reader.PageSize), null))
        {
            // The writer seeks; gzip does not.
            var elf = new MemoryStream();
            await ElfVmcoreWriter.WriteAsync(kept, elf);
            await using var file = File.Create(name + ".elf.gz");
            await using var gzip = new GZipStream(file, CompressionLevel.SmallestSize);
            elf.Position = 0;
            await elf.CopyToAsync(gzip);
        }
        var text = new StringBuilder();
        foreach (var group in labels.GroupBy(l => l.Value).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            text.Append(group.Key).Append(' ').AppendJoin(' ', group.Select(l => l.Key).Order()).Append('\n');
        }
        File.WriteAllText(name + ".pages", text.ToString());
    }

    /// <summary>Sorted runs of consecutive frames, as physical ranges.</summary>
    private static PhysicalRange[] Runs(IEnumerable<ulong> pfns, int pageSize)
    {
        var runs = new List<PhysicalRange>();
        foreach (var pfn in pfns.Order())
        {
            if (runs.Count > 0 && runs[^1].End == pfn * (ulong)pageSize)
            {
                runs[^1] = runs[^1] with { Length = runs[^1].Length + (ulong)pageSize };
            }
            else
            {
                runs.Add(new PhysicalRange(pfn * (ulong)pageSize, (ulong)pageSize));
            }
        }
        return [.. runs];
    }

    /// <summary>The dump's pages within <paramref name="ranges"/>, recording each frame read under the phase that read it first.</summary>
    private sealed class TracingSource(IGuestMemorySource source, IReadOnlyList<PhysicalRange> ranges, Dictionary<ulong, string>? labels) : IGuestMemorySource
    {
        public string Phase { get; set; } = "";

        public int PageSize => source.PageSize;

        public IReadOnlyList<PhysicalRange> Ranges => ranges;

        public IReadOnlyList<ElfNote> Notes => source.Notes;

        public bool ReadPage(ulong pfn, Span<byte> page)
        {
            if (labels is not null)
            {
                lock (labels)
                {
                    if (!labels.ContainsKey(pfn))
                    {
                        labels[pfn] = ReadByPageWalk() ? PageTables : Phase;
                    }
                }
            }
            else if (!ranges.Any(r => pfn * (ulong)PageSize >= r.Start && pfn * (ulong)PageSize < r.End))
            {
                page.Clear();
                return false;
            }
            return source.ReadPage(pfn, page);
        }

        /// <summary>The kernel memory view reads a page table whole, from its walk: the caller's frames say which read this is.</summary>
        private static bool ReadByPageWalk() =>
            new StackTrace().GetFrames().Take(8).Any(f => f.GetMethod() is { } m && m.DeclaringType == typeof(KernelMemoryView) && m.Name is "Entry" or "Walk");

        public void Dispose()
        {
        }
    }
}
