using System.Buffers.Binary;
using VmDebug.Engine.Compression;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Tests.Support;

/// <summary>Builds dump files for tests with the engine's writers and with hand-rolled variants of them.</summary>
internal static class DumpFiles
{
    public static async Task<string> WriteKdumpAsync(IGuestMemorySource source, string path, PageCompression compression,
        ZeroPagePolicy zeroPages = ZeroPagePolicy.Share)
    {
        await using var output = File.Create(path);
        await KdumpWriter.WriteAsync(source, output, new KdumpWriteOptions { Compression = compression, ZeroPages = zeroPages },
            cancellationToken: TestContext.Current.CancellationToken);
        return path;
    }

    public static async Task<string> WriteElfAsync(IGuestMemorySource source, string path)
    {
        await using var output = File.Create(path);
        await ElfVmcoreWriter.WriteAsync(source, output, cancellationToken: TestContext.Current.CancellationToken);
        return path;
    }

    /// <summary>
    /// Writes <paramref name="seekable"/> as a makedumpfile flattened stream, in records of random sizes and
    /// shuffled order, plus one stale record that a later record overwrites (readers must keep the later one).
    /// </summary>
    public static void Flatten(string seekablePath, string flattenedPath, int seed)
    {
        var data = File.ReadAllBytes(seekablePath);
        var random = new Random(seed);
        var records = new List<(long Offset, int Size)>();
        for (long offset = 0; offset < data.Length;)
        {
            var size = (int)Math.Min(data.Length - offset, random.Next(1, 20000));
            if (data.AsSpan((int)offset, size).ContainsAnyExcept((byte)0))
            {
                records.Add((offset, size));
            }
            offset += size;
        }
        var shuffled = records.OrderBy(_ => random.Next()).ToList();
        using var output = File.Create(flattenedPath);
        var header = new byte[4096];
        "makedumpfile"u8.CopyTo(header);
        BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(16), 1);
        BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(24), 1);
        output.Write(header);
        var stale = new byte[100];
        Array.Fill(stale, (byte)0xee);
        WriteRecord(output, 0, stale); // overwritten by the record holding offset 0
        foreach (var (offset, size) in shuffled)
        {
            WriteRecord(output, offset, data.AsSpan((int)offset, size));
        }
        WriteRecord(output, -1, []);
    }

    private static void WriteRecord(Stream output, long offset, ReadOnlySpan<byte> data)
    {
        Span<byte> head = stackalloc byte[16];
        BinaryPrimitives.WriteInt64BigEndian(head, offset);
        BinaryPrimitives.WriteInt64BigEndian(head[8..], offset == -1 ? -1 : data.Length);
        output.Write(head);
        output.Write(data);
    }

    /// <summary>Asserts every page of every range reads back as the source has it.</summary>
    public static void AssertSamePages(SyntheticSource expected, IGuestMemorySource actual, bool zeroPagesMayBeAbsent)
    {
        Assert.Equal(expected.PageSize, actual.PageSize);
        var buffer = new byte[actual.PageSize];
        foreach (var range in expected.Ranges)
        {
            for (var pfn = range.Start / (ulong)SyntheticSource.Page; pfn < range.End / (ulong)SyntheticSource.Page; pfn++)
            {
                var present = actual.ReadPage(pfn, buffer);
                var want = expected.Expected(pfn);
                Assert.True(want.AsSpan().SequenceEqual(buffer), $"page {pfn} differs");
                var expectedPresent = expected.ReadPage(pfn, new byte[SyntheticSource.Page]);
                if (!zeroPagesMayBeAbsent || want.AsSpan().ContainsAnyExcept((byte)0))
                {
                    Assert.Equal(expectedPresent, present);
                }
            }
        }
    }
}
