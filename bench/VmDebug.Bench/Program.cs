using System.Diagnostics;
using System.Globalization;
using System.Text;
using VmDebug;
using VmDebug.Engine.Kmsg;

// Parse throughput of the /dev/kmsg framer + parser on a stream shaped like a booting guest's log:
// ~80-character messages, one in eight with SUBSYSTEM/DEVICE continuation lines, one in sixteen with \xNN escapes.
// Usage: VmDebug.Bench [records] [rounds]   (run with -c Release)
var records = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 7;

var stream = BuildStream(records);
Console.WriteLine($"kmsg parse benchmark: {records:N0} records, {stream.Length / 1048576.0:F1} MiB, 16 KiB reads, {rounds} rounds");

var results = new List<double>();
for (var round = 0; round <= rounds; round++)
{
    var clock = Stopwatch.StartNew();
    var parsed = ParseAll(stream);
    clock.Stop();
    if (parsed != records)
    {
        throw new InvalidOperationException($"parsed {parsed} records, expected {records}");
    }

    if (round > 0)
    {
        // Round 0 warms up the JIT.
        results.Add(records / clock.Elapsed.TotalSeconds);
    }
}

results.Sort();
var median = results[results.Count / 2];
Console.WriteLine($"records/s: median {median:N0}, best {results[^1]:N0}, worst {results[0]:N0}");
Console.WriteLine($"MiB/s (median): {median * stream.Length / records / 1048576.0:F1}");

static long ParseAll(byte[] stream)
{
    var framer = new KmsgFramer(16 * 1024);
    long parsed = 0;
    for (var offset = 0; offset < stream.Length; offset += 16 * 1024)
    {
        var read = stream.AsSpan(offset, Math.Min(16 * 1024, stream.Length - offset));
        while (!read.IsEmpty)
        {
            read = read[framer.Feed(read)..];
            if (framer.TryTakeRecord(out var record, out var truncated))
            {
                KmsgParser.Parse(record, truncated, "bench", 1, default);
                parsed++;
            }
        }
    }

    framer.Finish();
    if (framer.TryTakeRecord(out var last, out var lastTruncated))
    {
        KmsgParser.Parse(last, lastTruncated, "bench", 1, default);
        parsed++;
    }

    return parsed;
}

static byte[] BuildStream(int count)
{
    var random = new Random(5);
    var text = new StringBuilder();
    for (var i = 0; i < count; i++)
    {
        var message = new string((char)('a' + random.Next(26)), 40) + $" pci 0000:00:{i % 32:x2}.0: [1af4:1000] type 00 class {i}";
        var fields = i % 8 == 0
            ? new Dictionary<string, string> { ["SUBSYSTEM"] = "pci", ["DEVICE"] = $"+pci:0000:00:{i % 32:x2}.0" }
            : null;
        if (i % 16 == 0)
        {
            message += " caf\u00e9 \\ \u001b[0m";
        }

        var record = new KmsgRecord((ulong)i, TimeSpan.FromTicks(i * 10_000L), (KmsgLevel)(i % 8), KmsgFacility.Kern,
            KmsgFlag.None, message, fields: fields, caller: $"T{i % 500}");
        text.Append(record.ToKmsgLine());
    }

    return Encoding.UTF8.GetBytes(text.ToString());
}
