using VmDebug.Engine.Compression;

namespace VmDebug.Tests.Compression;

public class PageCodecTests
{
    public static TheoryData<PageCompression> Codecs => new(PageCompression.Zlib, PageCompression.Lzo, PageCompression.Snappy, PageCompression.Zstd);

    [Theory]
    [MemberData(nameof(Codecs))]
    public void RoundTripsCompressibleAndRandomPages(PageCompression kind)
    {
        SkipIfMissing(kind);
        var codec = PageCodec.Get(kind);
        var random = new Random(7);
        var text = new byte[4096];
        for (var i = 0; i < text.Length; i++)
        {
            text[i] = (byte)"kernel panic - not syncing "[i % 27];
        }
        var noise = new byte[4096];
        random.NextBytes(noise);
        foreach (var page in new[] { text, noise, new byte[4096] })
        {
            var compressed = new byte[codec.MaxCompressedLength(page.Length)];
            var length = codec.Compress(page, compressed);
            var output = new byte[4096];
            Assert.Equal(4096, codec.Decompress(compressed.AsSpan(0, length), output));
            Assert.Equal(page, output);
        }
        var small = new byte[codec.MaxCompressedLength(4096)];
        Assert.True(codec.Compress(text, small) < 4096 / 10);
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void CorruptInputIsReportedNotCrashing(PageCompression kind)
    {
        SkipIfMissing(kind);
        var codec = PageCodec.Get(kind);
        var garbage = new byte[300];
        new Random(3).NextBytes(garbage);
        Assert.True(codec.Decompress(garbage, new byte[4096]) != 4096);
    }

    [Fact]
    public void DecompressingMoreThanAPageFails()
    {
        var codec = PageCodec.Get(PageCompression.Zlib);
        var twoPages = new byte[8192];
        var compressed = new byte[codec.MaxCompressedLength(twoPages.Length)];
        var length = codec.Compress(twoPages, compressed);
        Assert.Equal(-1, codec.Decompress(compressed.AsSpan(0, length), new byte[4096]));
    }

    private static void SkipIfMissing(PageCompression kind)
    {
        if (!PageCodec.IsAvailable(kind))
        {
            Assert.Skip($"the {kind} library is not installed");
        }
    }
}
