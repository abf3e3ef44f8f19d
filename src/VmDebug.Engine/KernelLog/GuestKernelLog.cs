using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using VmDebug.Engine.GuestKernel;

namespace VmDebug.Engine.KernelLog;

/// <summary>The guest kernel's log as read from its printk ring, with what could not be read said in warnings.</summary>
public sealed class GuestKernelLog
{
    private readonly List<KernelLogEntry> _entries;

    private GuestKernelLog(string source, string ringFormat, List<KernelLogEntry> entries, IReadOnlyList<string> warnings)
    {
        Source = source;
        RingFormat = ringFormat;
        _entries = entries;
        Warnings = warnings;
    }

    /// <summary>The dump, core, socket or domain read.</summary>
    public string Source { get; }

    /// <summary>"lockless" (5.10+ prb) or "structured" (3.5–5.9 log_buf).</summary>
    public string RingFormat { get; }

    /// <summary>Records in ring order (oldest first).</summary>
    public IReadOnlyList<KernelLogEntry> Entries => _entries;

    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Reads the printk ring the session's VMCOREINFO describes.</summary>
    public static GuestKernelLog Read(GuestKernelSession session)
    {
        var warnings = new List<string>(session.Warnings);
        if (session.VmcoreInfoFoundAt is { } at && !session.IsLive)
        {
            warnings.Add($"The dump has no VMCOREINFO note; the one found in guest RAM at physical 0x{at:x} was used.");
        }
        var info = session.VmcoreInfo;
        if (LocklessRingReader.Applies(info))
        {
            return new GuestKernelLog(session.Source, "lockless", LocklessRingReader.Read(session.View, warnings), warnings);
        }
        if (StructuredRingReader.Applies(info))
        {
            return new GuestKernelLog(session.Source, "structured", StructuredRingReader.Read(session.View, warnings), warnings);
        }
        throw new KernelLogException(KernelLogException.RingUnknown, ErrorKind.NotImplemented, session.Source,
            "VMCOREINFO names no printk ring VmDebug reads (neither SYMBOL(prb) of Linux 5.10+ nor SYMBOL(log_buf) with log_first_idx of 3.5–5.9).");
    }

    /// <summary>
    /// Writes the log as <c>makedumpfile --dump-dmesg</c> writes it, byte for byte (ASCII: anything else is escaped);
    /// optionally only the selected records. The text goes out a few pages at a time, never held whole.
    /// </summary>
    public void WriteMakedumpfileText(Stream output, int? tail = null, VmDebug.KmsgLevel? minimumLevel = null)
    {
        const int flushBytes = 8 * 1024;
        var buffer = new ArrayBufferWriter<byte>(flushBytes + 4096);
        foreach (var entry in CollectionsMarshal.AsSpan(Select(tail, minimumLevel)))
        {
            MakedumpfileText.Write(entry, buffer);
            if (buffer.WrittenCount >= flushBytes)
            {
                output.Write(buffer.WrittenSpan);
                buffer.ResetWrittenCount();
            }
        }
        output.Write(buffer.WrittenSpan);
    }

    /// <summary><see cref="WriteMakedumpfileText"/> as a string.</summary>
    public string ToMakedumpfileText(int? tail = null, VmDebug.KmsgLevel? minimumLevel = null)
    {
        using var text = new MemoryStream();
        WriteMakedumpfileText(text, tail, minimumLevel);
        return Encoding.ASCII.GetString(text.GetBuffer(), 0, (int)text.Length);
    }

    /// <summary>
    /// The records as the <see cref="VmDebug.KmsgRecord"/>s a /dev/kmsg stream yields, Guest naming the source, so a
    /// streamed log and a dump's log merge by Sequence. <paramref name="tail"/> keeps the last N,
    /// <paramref name="minimumLevel"/> drops less severe ones.
    /// </summary>
    public IReadOnlyList<VmDebug.KmsgRecord> ToKmsgRecords(int? tail = null, VmDebug.KmsgLevel? minimumLevel = null) =>
        Select(tail, minimumLevel).ConvertAll(ToKmsgRecord);

    // Lists and delegates, not LINQ: each interface call site costs a NativeAOT executable a dispatch-cell
    // resolution at its first call, and `vmdebug log` is a few milliseconds long.
    private List<KernelLogEntry> Select(int? tail, VmDebug.KmsgLevel? minimumLevel)
    {
        var selected = _entries;
        if (minimumLevel is { } level)
        {
            selected = selected.FindAll(e => e.Level <= (int)level);
        }
        if (tail is { } n && n < selected.Count)
        {
            var keep = Math.Max(n, 0);
            selected = selected.GetRange(selected.Count - keep, keep);
        }
        return selected;
    }

    private VmDebug.KmsgRecord ToKmsgRecord(KernelLogEntry entry)
    {
        var fields = new Dictionary<string, string>();
        if (entry.Subsystem.Length > 0)
        {
            fields["SUBSYSTEM"] = entry.Subsystem;
        }
        if (entry.Device.Length > 0)
        {
            fields["DEVICE"] = entry.Device;
        }
        foreach (var (key, value) in entry.Dictionary)
        {
            fields.TryAdd(key, value);
        }
        // LOG_CONT (8) marks a fragment of a continued line in the structured ring; 5.10+ merges continuations.
        var flag = (entry.Flags & 8) != 0 ? VmDebug.KmsgFlag.Continuation : VmDebug.KmsgFlag.None;
        return new VmDebug.KmsgRecord(
            entry.Sequence,
            // Microseconds, as /dev/kmsg gives them, so a streamed record and the same record from a dump are equal.
            TimeSpan.FromTicks((long)Math.Min(entry.TimestampNanoseconds / 1000 * 10, (ulong)TimeSpan.MaxValue.Ticks)),
            (VmDebug.KmsgLevel)(entry.Level & 7),
            (VmDebug.KmsgFacility)entry.Facility,
            flag,
            Encoding.UTF8.GetString(entry.Text.Span),
            fields: fields,
            caller: entry.Caller,
            truncated: entry.Truncated,
            guest: Source);
    }
}
