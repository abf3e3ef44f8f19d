using System.Buffers.Binary;
using System.Text;
using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.KernelLog;

/// <summary>
/// Reads the structured log_buf of Linux 3.5–5.9 (struct printk_log records: ts_nsec, len, text_len, dict_len,
/// facility, flags:5/level:3, optional caller_id; then text, then dictionary) from log_first_idx to log_next_idx.
/// A record of len 0 marks the end of the buffer: the next record is at its start. The walk is bounded by the
/// number of headers the buffer can hold, every index is checked against the buffer, and a corrupt ring ends in a
/// partial log with a warning (the infinite loops of kexec-tools e277fa9 / makedumpfile 68d120b cannot happen).
/// Kernels 3.6–3.10 call the structure "log" instead of "printk_log"; both are accepted.
/// </summary>
internal static class StructuredRingReader
{
    private const uint MaxBufferBytes = 1U << 25;

    public static bool Applies(VmcoreInfo info) => info.Symbol("log_buf") is not null && info.Symbol("log_first_idx") is not null;

    public static List<KernelLogEntry> Read(KernelMemoryView view, List<string> warnings)
    {
        var info = view.VmcoreInfo;
        var source = view.Memory.Name;
        var structName = info.Size("printk_log") is not null ? "printk_log" : "log";
        ulong Need(ulong? value, string key) => value ?? throw new KernelLogException(KernelLogException.RingCorrupt, ErrorKind.InvalidData, source,
            $"VMCOREINFO has SYMBOL(log_buf) but not {key}, so the log buffer's records cannot be read.");
        var headerSize = Need(info.Size(structName), $"SIZE({structName})");
        var tsNsec = Need(info.Offset(structName, "ts_nsec"), $"OFFSET({structName}.ts_nsec)");
        var lenOffset = Need(info.Offset(structName, "len"), $"OFFSET({structName}.len)");
        var textLenOffset = Need(info.Offset(structName, "text_len"), $"OFFSET({structName}.text_len)");
        var dictLenOffset = info.Offset(structName, "dict_len");
        var callerOffset = info.Offset(structName, "caller_id");
        if (headerSize is < 16 or > 256 || tsNsec + 8 > headerSize || lenOffset + 2 > headerSize || textLenOffset + 2 > headerSize
            || dictLenOffset + 4 > headerSize || callerOffset + 4 > headerSize)
        {
            throw new KernelLogException(KernelLogException.RingCorrupt, ErrorKind.InvalidData, source,
                $"VMCOREINFO's {structName} layout places fields outside its {headerSize}-byte header.");
        }

        var buffer = view.ReadUInt64(info.Symbol("log_buf")!.Value, "the log_buf pointer");
        var length = view.ReadUInt32(Need(info.Symbol("log_buf_len"), "SYMBOL(log_buf_len)"), "log_buf_len");
        var first = view.ReadUInt32(info.Symbol("log_first_idx")!.Value, "log_first_idx");
        var next = view.ReadUInt32(Need(info.Symbol("log_next_idx"), "SYMBOL(log_next_idx)"), "log_next_idx");
        if (length is 0 or > MaxBufferBytes || first >= length || next >= length)
        {
            throw new KernelLogException(KernelLogException.RingCorrupt, ErrorKind.InvalidData, source,
                $"log_buf_len {length}, log_first_idx {first} and log_next_idx {next} do not describe a log buffer.");
        }
        // log_first_seq is not in VMCOREINFO; when it is absent the records are numbered from 0.
        ulong sequence = 0;
        if (info.Symbol("log_first_seq") is { } firstSeq)
        {
            sequence = view.ReadUInt64(firstSeq, "log_first_seq");
        }
        else
        {
            warnings.Add("VMCOREINFO has no SYMBOL(log_first_seq): sequence numbers count from 0 at the oldest record kept.");
        }
        var ring = view.ReadBytes(buffer, length, "the log buffer");

        var entries = new List<KernelLogEntry>();
        var position = first;
        var maxRecords = length / headerSize + 1;
        while (position != next)
        {
            if ((ulong)entries.Count > maxRecords)
            {
                warnings.Add($"The log buffer's records form a cycle (more than {maxRecords} records in {length} bytes): the log stops at offset {position}.");
                break;
            }
            if (position + headerSize > length)
            {
                warnings.Add($"A log buffer record at offset {position} runs past the {length}-byte buffer: the log stops there.");
                break;
            }
            var record = ring.AsSpan((int)position);
            var recordLength = BinaryPrimitives.ReadUInt16LittleEndian(record[(int)lenOffset..]);
            if (recordLength == 0)
            {
                if (position == 0)
                {
                    warnings.Add("The log buffer's first record has length 0: the ring is corrupt and the log stops there.");
                    break;
                }
                position = 0; // end-of-buffer marker: this record is at the buffer's start
                continue;
            }
            var textLength = BinaryPrimitives.ReadUInt16LittleEndian(record[(int)textLenOffset..]);
            var dictLength = dictLenOffset is { } d ? BinaryPrimitives.ReadUInt16LittleEndian(record[(int)d..]) : 0;
            if (recordLength < headerSize || position + recordLength > length || headerSize + textLength + (ulong)dictLength > recordLength)
            {
                warnings.Add($"A log buffer record at offset {position} has length {recordLength} (text {textLength}, dictionary {dictLength}), which does not fit: the log stops there.");
                break;
            }
            var levelByte = dictLenOffset is { } dl ? record[(int)dl + 3] : (byte)(6 << 5);
            entries.Add(new KernelLogEntry
            {
                Sequence = sequence++,
                TimestampNanoseconds = BinaryPrimitives.ReadUInt64LittleEndian(record[(int)tsNsec..]),
                Facility = dictLenOffset is { } df ? record[(int)df + 2] : 0,
                Flags = levelByte & 0x1f,
                Level = levelByte >> 5,
                CallerId = callerOffset is { } c ? BinaryPrimitives.ReadUInt32LittleEndian(record[(int)c..]) : null,
                Text = record.Slice((int)headerSize, textLength).ToArray(),
                Dictionary = ParseDictionary(record.Slice((int)headerSize + textLength, dictLength), out var subsystem, out var device),
                Subsystem = subsystem,
                Device = device,
            });
            position += recordLength;
        }
        return entries;
    }

    /// <summary>"KEY=value" pairs separated by NUL (dev_printk_emit's dictionary); SUBSYSTEM and DEVICE are lifted out.</summary>
    private static List<KeyValuePair<string, string>> ParseDictionary(ReadOnlySpan<byte> dictionary, out string subsystem, out string device)
    {
        subsystem = device = "";
        var pairs = new List<KeyValuePair<string, string>>();
        foreach (var part in Encoding.UTF8.GetString(dictionary).Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            var key = eq > 0 ? part[..eq] : part;
            var value = eq > 0 ? part[(eq + 1)..] : "";
            switch (key)
            {
                case "SUBSYSTEM": subsystem = value; break;
                case "DEVICE": device = value; break;
                default: pairs.Add(new(key, value)); break;
            }
        }
        return pairs;
    }
}
