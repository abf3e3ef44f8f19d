using System.Text;
using VmDebug.Engine.Kmsg;

namespace VmDebug.Tests.Kmsg;

public class KmsgFramerTests
{
    /// <summary>Feeds the chunks as a socket would deliver them and returns every frame, ending the stream at the end.</summary>
    internal static List<(string Text, bool Truncated)> Frame(int maxRecordLength, IEnumerable<byte[]> chunks, Action<KmsgFramer>? afterChunk = null)
    {
        var framer = new KmsgFramer(maxRecordLength);
        var frames = new List<(string, bool)>();
        void Take()
        {
            if (framer.TryTakeRecord(out var record, out var truncated))
            {
                frames.Add((Encoding.UTF8.GetString(record), truncated));
            }
        }

        foreach (var chunk in chunks)
        {
            var data = chunk.AsSpan();
            while (!data.IsEmpty)
            {
                data = data[framer.Feed(data)..];
                Take();
            }

            afterChunk?.Invoke(framer);
        }

        framer.Finish();
        Take();
        return frames;
    }

    private const string Stream = "6,1,10,-;first\n SUBSYSTEM=virtio\n DEVICE=+virtio:virtio1\n4,2,20,-;second\n3,3,30,-;third\n";
    private static readonly string[] Expected =
        ["6,1,10,-;first\n SUBSYSTEM=virtio\n DEVICE=+virtio:virtio1", "4,2,20,-;second", "3,3,30,-;third"];

    [Fact]
    public void FramesSeveralRecordsInOneRead()
    {
        var frames = Frame(1024, [Encoding.UTF8.GetBytes(Stream)]);
        Assert.Equal(Expected, frames.Select(f => f.Text));
        Assert.All(frames, f => Assert.False(f.Truncated));
    }

    [Fact]
    public void FramesRecordsSplitAcrossReadsByteByByte()
    {
        var frames = Frame(1024, Encoding.UTF8.GetBytes(Stream).Select(b => new[] { b }));
        Assert.Equal(Expected, frames.Select(f => f.Text));
    }

    [Fact]
    public void HoldsACompleteRecordUntilTheNextLineShowsItIsNotAContinuation()
    {
        var framer = new KmsgFramer(1024);
        Assert.Equal(9, framer.Feed("6,1,1,-;a\n"u8[..9]));
        Assert.False(framer.HasPendingRecord);
        framer.Feed("\n"u8);
        Assert.True(framer.HasPendingRecord);
        Assert.False(framer.TryTakeRecord(out _, out _));

        framer.Feed(" K=v\n"u8);
        Assert.Equal(0, framer.Feed("6,2,2,-;b\n"u8));
        Assert.True(framer.TryTakeRecord(out var record, out _));
        Assert.Equal("6,1,1,-;a\n K=v", Encoding.UTF8.GetString(record));

        framer.Feed("6,2,2,-;b\n"u8);
        framer.FlushPending();
        Assert.True(framer.TryTakeRecord(out record, out _));
        Assert.Equal("6,2,2,-;b", Encoding.UTF8.GetString(record));
    }

    [Fact]
    public void SkipsBlankLines()
    {
        Assert.Equal(["6,1,1,-;a", "6,2,2,-;b"], Frame(64, ["\n\n6,1,1,-;a\n\n\n6,2,2,-;b\n"u8.ToArray()]).Select(f => f.Text));
    }

    [Fact]
    public void ATenMegabyteLineWithoutNewlineKeepsMemoryBoundedAndTheStreamContinues()
    {
        const int max = 16 * 1024;
        var chunk = new byte[64 * 1024];
        Array.Fill(chunk, (byte)'A');
        var chunks = new List<byte[]> { "6,1,1,-;"u8.ToArray() };
        chunks.AddRange(Enumerable.Repeat(chunk, 10 * 1024 * 1024 / chunk.Length));
        chunks.Add("\n6,2,2,-;after the flood\n"u8.ToArray());

        var peak = 0;
        var frames = Frame(max, chunks, framer => peak = Math.Max(peak, framer.BufferedBytes));

        Assert.InRange(peak, 1, max);
        Assert.Equal(2, frames.Count);
        Assert.True(frames[0].Truncated);
        Assert.Equal(max, frames[0].Text.Length);
        Assert.Equal(("6,2,2,-;after the flood", false), frames[1]);
    }

    [Fact]
    public void DropsContinuationLinesOfARecordThatIsAlreadyFull()
    {
        var frames = Frame(64, [Encoding.UTF8.GetBytes("6,1,1,-;" + new string('x', 60) + "\n K=v\n K2=v2\n6,2,2,-;b\n")]);
        Assert.Equal(64, frames[0].Text.Length);
        Assert.True(frames[0].Truncated);
        Assert.DoesNotContain("K=", frames[0].Text);
        Assert.Equal(("6,2,2,-;b", false), frames[1]);
    }

    [Fact]
    public void RefusesMoreBytesWhileACompletedRecordIsNotTaken()
    {
        var framer = new KmsgFramer(64);
        framer.Feed("6,1,1,-;a\n"u8);
        Assert.Equal(0, framer.Feed("6"u8));
        Assert.Throws<InvalidOperationException>(() => framer.Feed("6"u8));
    }
}
