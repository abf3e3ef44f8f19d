using System.Buffers.Binary;
using VmDebug.Engine.Compression;
using VmDebug.Engine.ProcessCore;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.ProcessCore;

/// <summary>
/// The ring decoder on files the zstd tool writes: concatenated frames with different windows (the ring grows between
/// them), a skippable frame between them, matches reaching back across the ring's end (long-distance matching with an 8 MiB window
/// over 24 MiB of data), lengths that are no multiple of a page. The reader must get the exact bytes, in whole pages.
/// </summary>
public sealed class ZstdRingDecoderTests
{
    private const int Page = 4096;

    [Fact]
    public async Task ConcatenatedFramesComeBackExactlyInWholePages()
    {
        var zstd = TestEnvironment.RequireTool("zstd", "zstd");
        using var scratch = new TempDirectory();
        var small = Data(70_001, seed: 1); // a small frame: its window is its own size
        var large = Data(24 << 20, seed: 2);
        var file = scratch.File("core.zst");
        using (var output = File.Create(file))
        {
            output.Write(await CompressAsync(zstd, scratch, small, "-1"));
            output.Write(SkippableFrame(1000));
            output.Write(await CompressAsync(zstd, scratch, large, "-3", "--long=23"));
        }

        var (decoded, chunks) = DecodeAll(file);

        Assert.Equal(small.Length + large.Length, decoded.Length);
        Assert.True(decoded.AsSpan(0, small.Length).SequenceEqual(small), "the first frame differs");
        Assert.True(decoded.AsSpan(small.Length).SequenceEqual(large), "the second frame differs");
        Assert.True(chunks[0] >= 1 << 20, $"the first chunk has {chunks[0]} bytes, less than the MiB the program headers may need");
        Assert.All(chunks.Take(chunks.Count - 1), length => Assert.Equal(0, length % Page));
        TestContext.Current.SendDiagnosticMessage($"{chunks.Count} chunks");
    }

    [Fact]
    public async Task ATruncatedOrCorruptFileSaysWhy()
    {
        var zstd = TestEnvironment.RequireTool("zstd", "zstd");
        using var scratch = new TempDirectory();
        var compressed = await CompressAsync(zstd, scratch, Data(3 << 20, seed: 3), "-1");

        var truncated = scratch.File("truncated.zst");
        File.WriteAllBytes(truncated, compressed[..(compressed.Length / 2)]);
        var error = Assert.Throws<CompressionException>(() => DecodeAll(truncated));
        Assert.Equal("CompressedCoreCorrupt", error.ErrorId);
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);

        var corrupt = scratch.File("corrupt.zst");
        compressed[compressed.Length / 2] ^= 0xff;
        compressed[(compressed.Length / 2) + 1] ^= 0x5a;
        File.WriteAllBytes(corrupt, compressed);
        error = Assert.Throws<CompressionException>(() => DecodeAll(corrupt));
        Assert.Equal("CompressedCoreCorrupt", error.ErrorId);
        Assert.Contains(corrupt, error.Message, StringComparison.Ordinal);
    }

    private static (byte[] Data, List<int> Chunks) DecodeAll(string path)
    {
        using var decoder = new ZstdRingDecoder(path, CancellationToken.None);
        using var all = new MemoryStream();
        var chunks = new List<int>();
        while (decoder.TryNext(out var buffer, out var start, out var length))
        {
            all.Write(buffer, start, length);
            chunks.Add(length);
        }
        return (all.ToArray(), chunks);
    }

    /// <summary>Zero runs, random runs and copies of earlier data from up to 7 MiB back, like guest RAM in a core.</summary>
    private static byte[] Data(int length, int seed)
    {
        var random = new Random(seed);
        var data = new byte[length];
        var at = 0;
        while (at < length)
        {
            var run = Math.Min(length - at, random.Next(1, 300_000));
            switch (random.Next(3))
            {
                case 0:
                    break; // zeros
                case 1:
                    random.NextBytes(data.AsSpan(at, run));
                    break;
                default:
                    var back = random.Next(1, Math.Min(at, 7 << 20) + 1);
                    for (var i = 0; i < run; i++)
                    {
                        data[at + i] = at + i - back >= 0 ? data[at + i - back] : (byte)i;
                    }
                    break;
            }
            at += run;
        }
        return data;
    }

    private static async Task<byte[]> CompressAsync(string zstd, TempDirectory scratch, byte[] data, params string[] options)
    {
        var input = scratch.File($"in-{Guid.NewGuid():n}");
        await File.WriteAllBytesAsync(input, data);
        var (exit, _, stderr) = await TestEnvironment.RunAsync(zstd, ["-q", "-f", .. options, input, "-o", input + ".zst"], timeout: TimeSpan.FromMinutes(2));
        Assert.True(exit == 0, $"zstd failed: {stderr}");
        return await File.ReadAllBytesAsync(input + ".zst");
    }

    /// <summary>A skippable frame (RFC 8878 3.1.2): magic 0x184D2A50..5F, its length, that many bytes.</summary>
    private static byte[] SkippableFrame(int length)
    {
        var frame = new byte[8 + length];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, 0x184D2A53);
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(4), (uint)length);
        frame.AsSpan(8).Fill(0xab);
        return frame;
    }
}
