using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

// Compresses every non-zero 4 KiB page of a vmcore with native libsnappy (libsnappy.so.1) and with Snappier, the
// pages kept in memory so only the codecs are timed (the order alternates per round). Checks that each decompresses
// the other's output to the same page. Prints the median of the rounds and the Snappier/native time ratio.
// Usage: VmDebug.SnappyBench VMCORE [rounds]   (run with -c Release)
if (args.Length < 1)
{
    Console.Error.WriteLine("usage: VmDebug.SnappyBench VMCORE [rounds]");
    return 2;
}

const int PageSize = 4096;
var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
var pages = ReadNonZeroPages(args[0]);
Console.WriteLine($"input: {pages.Count:N0} non-zero pages ({pages.Count * (long)PageSize / 1048576.0:F0} MiB) of {args[0]}, {rounds} rounds");

var output = new byte[Math.Max((int)NativeSnappy.snappy_max_compressed_length(PageSize), Snappier.Snappy.GetMaxCompressedLength(PageSize))];
var page = new byte[PageSize];
foreach (var p in pages.Take(2000))
{
    // Cross-check: each codec reads the other's blocks (both write raw snappy, as kdump pages need).
    var n = NativeSnappy.Compress(p, output);
    if (Snappier.Snappy.Decompress(output.AsSpan(0, n), page) != PageSize || !page.AsSpan().SequenceEqual(p))
    {
        throw new InvalidOperationException("Snappier cannot read libsnappy's page");
    }

    n = Snappier.Snappy.Compress(p, output);
    if (NativeSnappy.Decompress(output.AsSpan(0, n), page) != PageSize || !page.AsSpan().SequenceEqual(p))
    {
        throw new InvalidOperationException("libsnappy cannot read Snappier's page");
    }
}

var times = new Dictionary<string, List<double>> { ["native"] = [], ["snappier"] = [] };
var sizes = new Dictionary<string, long>();
for (var round = 0; round <= rounds; round++)
{
    foreach (var name in round % 2 == 0 ? new[] { "native", "snappier" } : ["snappier", "native"])
    {
        long bytes = 0;
        var clock = Stopwatch.StartNew();
        foreach (var p in pages)
        {
            bytes += name == "native" ? NativeSnappy.Compress(p, output) : Snappier.Snappy.Compress(p, output);
        }

        clock.Stop();
        sizes[name] = bytes;
        if (round > 0)
        {
            times[name].Add(clock.Elapsed.TotalSeconds); // round 0 warms up the JIT and caches
        }
    }
}

double Median(List<double> values) { values.Sort(); return values[values.Count / 2]; }
var mib = pages.Count * (double)PageSize / 1048576.0;
foreach (var (name, list) in times)
{
    Console.WriteLine($"{name,-9} median {Median(list):F3} s ({mib / Median(list):F0} MiB/s), {sizes[name] / 1e6:F1} MB compressed");
}

Console.WriteLine($"time ratio snappier/native: {Median(times["snappier"]) / Median(times["native"]):F2}");
return 0;

static List<byte[]> ReadNonZeroPages(string path)
{
    var result = new List<byte[]>();
    using var file = File.OpenRead(path);
    var buffer = new byte[PageSize];
    while (file.ReadAtLeast(buffer, PageSize, throwOnEndOfStream: false) == PageSize)
    {
        if (buffer.AsSpan().IndexOfAnyExcept((byte)0) >= 0)
        {
            result.Add((byte[])buffer.Clone());
        }
    }

    return result;
}

internal static partial class NativeSnappy
{
    [LibraryImport("libsnappy.so.1")]
    private static unsafe partial int snappy_compress(byte* input, nuint inputLength, byte* compressed, nuint* compressedLength);

    [LibraryImport("libsnappy.so.1")]
    private static unsafe partial int snappy_uncompress(byte* compressed, nuint compressedLength, byte* uncompressed, nuint* uncompressedLength);

    [LibraryImport("libsnappy.so.1")]
    public static partial nuint snappy_max_compressed_length(nuint sourceLength);

    public static unsafe int Compress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var length = (nuint)destination.Length;
        fixed (byte* src = source)
        fixed (byte* dst = destination)
        {
            return snappy_compress(src, (nuint)source.Length, dst, &length) == 0 ? (int)length : throw new InvalidOperationException("snappy_compress failed");
        }
    }

    public static unsafe int Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var length = (nuint)destination.Length;
        fixed (byte* src = source)
        fixed (byte* dst = destination)
        {
            return snappy_uncompress(src, (nuint)source.Length, dst, &length) == 0 ? (int)length : -1;
        }
    }
}
