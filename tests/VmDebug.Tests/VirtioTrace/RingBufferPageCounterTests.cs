using System.Buffers.Binary;
using VmDebug.Engine.VirtioTrace;

namespace VmDebug.Tests.VirtioTrace;

/// <summary>Pages built byte for byte as the kernel writes them (kernel/trace/ring_buffer.c, events/header_page).</summary>
public class RingBufferPageCounterTests
{
    private const int PageSize = 4096;

    /// <summary>A page: u64 time_stamp, commit (bytes used | flags), then the events; the rest zero (null padding).</summary>
    internal sealed class PageBuilder
    {
        private readonly byte[] _page = new byte[PageSize];
        private int _offset = 16;
        public long Flags { get; set; }

        private PageBuilder Header(int typeLen, uint delta, params uint[] words)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_page.AsSpan(_offset), (uint)typeLen | (delta << 5));
            _offset += 4;
            foreach (var w in words) { BinaryPrimitives.WriteUInt32LittleEndian(_page.AsSpan(_offset), w); _offset += 4; }
            return this;
        }

        /// <summary>A small event: type_len = payload words.</summary>
        public PageBuilder Small(int words) => Header(words, 7, Enumerable.Repeat(0xabcdu, words).ToArray());
        /// <summary>A large event: type_len 0, array[0] = payload bytes + 4.</summary>
        public PageBuilder Large(int payloadBytes) => Header(0, 3, [(uint)payloadBytes + 4, .. new uint[payloadBytes / 4]]);
        public PageBuilder TimeExtend() => Header(30, 1, 5);
        public PageBuilder TimeStamp() => Header(31, 1, 5);
        public PageBuilder NullPadding() => Header(29, 0);
        public PageBuilder Discarded(int payloadBytes) => Header(29, 1, [(uint)payloadBytes + 4, .. new uint[payloadBytes / 4]]);
        public int Used => _offset - 16;

        public byte[] Build(long? commit = null)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(_page, 123456789);
            BinaryPrimitives.WriteInt64LittleEndian(_page.AsSpan(8), (commit ?? Used) | Flags);
            return _page;
        }
    }

    [Fact]
    public void CountsDataEventsOnlyNotPaddingOrTimeRecords()
    {
        var page = new PageBuilder().Small(1).TimeExtend().Small(28).Large(200).Discarded(40).TimeStamp().Small(3).Build();
        var counter = new RingBufferPageCounter();
        counter.Add(page);
        Assert.Equal((1L, 4L, 0L, 0L), (counter.Pages, counter.Events, counter.PagesWithLostEvents, counter.MalformedPages));
        Assert.Equal(PageSize, counter.Bytes);
    }

    [Fact]
    public void StopsAtTheCommitAndAtNullPadding()
    {
        var builder = new PageBuilder().Small(2).Small(2);
        var twoEvents = builder.Used;
        builder.Small(2);
        var counter = new RingBufferPageCounter();
        counter.Add(builder.Build(commit: twoEvents)); // the third event is past commit: not yet written
        var padded = new PageBuilder().Small(4).NullPadding();
        counter.Add(padded.Build(commit: 2000)); // the rest of the page is null padding (type_len 29, delta 0)
        Assert.Equal((2L, 3L, 0L), (counter.Pages, counter.Events, counter.MalformedPages));
    }

    [Fact]
    public void ReadsTheLostEventFlagsAndTheStoredCount()
    {
        var lost = new PageBuilder { Flags = 1L << 31 }.Small(1);
        var stored = new PageBuilder { Flags = (1L << 31) | (1L << 30) }.Small(1);
        var storedPage = stored.Build();
        BinaryPrimitives.WriteInt64LittleEndian(storedPage.AsSpan(16 + stored.Used), 42);
        var counter = new RingBufferPageCounter();
        counter.Add(lost.Build());
        counter.Add(storedPage);
        counter.Add(new PageBuilder().Small(1).Build());
        Assert.Equal((3L, 3L, 2L, 42L), (counter.Pages, counter.Events, counter.PagesWithLostEvents, counter.LostEvents));
    }

    [Fact]
    public void CountsTheSameWhateverTheChunksTheStreamArrivesIn()
    {
        var stream = Enumerable.Range(1, 5).SelectMany(i => new PageBuilder().Small(i).Large(64).Small(i).Build()).ToArray();
        var whole = new RingBufferPageCounter();
        whole.Add(stream);
        var chunked = new RingBufferPageCounter();
        var random = new Random(16);
        for (var offset = 0; offset < stream.Length;)
        {
            var n = Math.Min(random.Next(1, 5000), stream.Length - offset);
            chunked.Add(stream.AsSpan(offset, n));
            offset += n;
        }
        Assert.Equal((5L, 15L), (whole.Pages, whole.Events));
        Assert.Equal((whole.Pages, whole.Events, whole.Bytes), (chunked.Pages, chunked.Events, chunked.Bytes));
    }

    [Fact]
    public void KeepsBytesAfterTheLastWholePageOutOfTheCount()
    {
        var counter = new RingBufferPageCounter();
        counter.Add(new PageBuilder().Small(1).Build());
        counter.Add(new byte[100]);
        Assert.Equal((1L, 1L, 100, PageSize + 100L), (counter.Pages, counter.Events, counter.TrailingBytes, counter.Bytes));
    }

    [Theory]
    [InlineData(5000)] // commit larger than the page
    [InlineData(0x7ffffff)]
    public void AGuestsOversizedCommitIsMalformedNotARunaway(long commit)
    {
        var counter = new RingBufferPageCounter();
        counter.Add(new PageBuilder().Small(1).Small(1).Build(commit));
        Assert.Equal(1, counter.MalformedPages);
        Assert.True(counter.Events <= 2);
    }

    [Fact]
    public void ALengthThatLeavesThePageOrLoopsIsMalformed()
    {
        var counter = new RingBufferPageCounter();
        var overlong = new PageBuilder().Small(1).Build(commit: 100);
        BinaryPrimitives.WriteUInt32LittleEndian(overlong.AsSpan(16 + 8), 0); // a large event ...
        BinaryPrimitives.WriteUInt32LittleEndian(overlong.AsSpan(16 + 12), 100000); // ... longer than the page
        counter.Add(overlong);
        var zeroLength = new PageBuilder().Build(commit: 64);
        BinaryPrimitives.WriteUInt32LittleEndian(zeroLength.AsSpan(16), 0); // type_len 0 with array[0] = 0 would never advance
        BinaryPrimitives.WriteUInt32LittleEndian(zeroLength.AsSpan(20), 0);
        counter.Add(zeroLength);
        Assert.Equal((2L, 1L, 2L), (counter.Pages, counter.Events, counter.MalformedPages));
    }
}
