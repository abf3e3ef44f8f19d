using System.Text;
using FsCheck;
using FsCheck.Fluent;
using VmDebug.Engine.Kmsg;

namespace VmDebug.Tests.Kmsg;

/// <summary>Generated and mutated /dev/kmsg input: 100 000 cases per property.</summary>
public class KmsgPropertyTests
{
    private const int Cases = 100_000;

    private static Config Config => Config.QuickThrowOnFailure.WithMaxTest(Cases);

    private static Gen<ulong> UInt64Gen =>
        from high in Gen.Choose(int.MinValue, int.MaxValue)
        from low in Gen.Choose(int.MinValue, int.MaxValue)
        from small in Gen.Choose(0, 1000)
        from pick in Gen.Choose(0, 2)
        select pick == 0 ? (ulong)small : ((ulong)(uint)high << 32) | (uint)low;

    /// <summary>Text mixing what kernels and hostile guests send: ASCII, control characters, backslashes, non-ASCII and astral characters.</summary>
    private static Gen<string> TextGen =>
        Gen.ListOf(Gen.Frequency(
                (10, Gen.Choose(0x20, 0x7e).Select(c => ((char)c).ToString())),
                (2, Gen.Choose(0, 0x1f).Select(c => ((char)c).ToString())),
                (1, Gen.Elements("\\", "\\x", "\u007f", "\u009b", "é", "€", "\u202e", "😀", "=", ";", ",")),
                (1, Gen.Choose(0xa0, 0xd7ff).Select(c => ((char)c).ToString()))))
            .Select(parts => string.Concat(parts));

    private static Gen<KmsgRecord> RecordGen =>
        from prio in Gen.Choose(0, 2047)
        from sequence in UInt64Gen
        from micros in UInt64Gen
        from flag in Gen.Elements(KmsgFlag.None, KmsgFlag.ContinuationStart, KmsgFlag.Continuation)
        from callerKind in Gen.Elements("", "T", "C")
        from callerId in Gen.Choose(0, int.MaxValue)
        from message in TextGen
        from fieldCount in Gen.Choose(0, 3)
        from keys in Gen.ArrayOf(TextGen.Select(k => "K" + k.Replace("=", "")), fieldCount)
        from values in Gen.ArrayOf(TextGen, fieldCount)
        select new KmsgRecord(
            sequence,
            TimeSpan.FromTicks((long)(micros % (long.MaxValue / 10 + 1)) * 10),
            (KmsgLevel)(prio & 7),
            (KmsgFacility)(prio >> 3),
            flag,
            message,
            fields: keys.Zip(values).DistinctBy(kv => kv.First).ToDictionary(kv => kv.First, kv => kv.Second),
            caller: callerKind == "" ? null : callerKind + callerId);

    [Fact]
    public void WellFormedRecordsRoundTripThroughFramerAndParser()
    {
        var input =
            from count in Gen.Choose(1, 4)
            from records in Gen.ArrayOf(RecordGen, count)
            from cuts in Gen.ListOf(Gen.Choose(1, 64))
            select (records, cuts.ToArray());

        Check.One(Config, Prop.ForAll(input.ToArbitrary(), c =>
        {
            var bytes = Encoding.UTF8.GetBytes(string.Concat(c.records.Select(r => r.ToKmsgLine())));
            var frames = KmsgFramerTests.Frame(32 * 1024, Chunk(bytes, c.Item2));
            Assert.Equal(c.records.Length, frames.Count);
            for (var i = 0; i < frames.Count; i++)
            {
                AssertSameRecord(c.records[i], KmsgParser.Parse(Encoding.UTF8.GetBytes(frames[i].Text)));
                Assert.False(frames[i].Truncated);
            }
        }));
    }

    [Fact]
    public void MutatedInputYieldsRecordsOrTypedParseErrorsOnly()
    {
        var special = Gen.Elements<byte>((byte)',', (byte)';', (byte)'\n', (byte)' ', (byte)'=', (byte)'\\', (byte)'x', (byte)'-',
            (byte)'c', (byte)'+', (byte)'0', (byte)'9', 0, 0x1b, 0x7f, 0x80, 0xc3, 0xff);
        var anyByte = Gen.Choose(0, 255).Select(b => (byte)b);
        var mutation =
            from kind in Gen.Choose(0, 3)
            from position in Gen.Choose(0, int.MaxValue)
            from value in Gen.Frequency((3, special), (1, anyByte))
            select (kind, position, value);
        var wellFormed =
            from count in Gen.Choose(1, 3)
            from records in Gen.ArrayOf(RecordGen, count)
            select Encoding.UTF8.GetBytes(string.Concat(records.Select(r => r.ToKmsgLine())));
        var noise = Gen.ArrayOf(Gen.Frequency((3, special), (1, anyByte)));
        var input =
            from start in Gen.Frequency((4, wellFormed), (1, noise))
            from mutations in Gen.ListOf(mutation)
            from maxRecordLength in Gen.Elements(16, 64, 4096)
            from cuts in Gen.ListOf(Gen.Choose(1, 64))
            select (Mutate(start, mutations), maxRecordLength, cuts.ToArray());

        Check.One(Config, Prop.ForAll(input.ToArbitrary(), c =>
        {
            var (bytes, maxRecordLength, cuts) = c;
            var frames = KmsgFramerTests.Frame(maxRecordLength, Chunk(bytes, cuts),
                framer => Assert.InRange(framer.BufferedBytes, 0, maxRecordLength));
            foreach (var (text, truncated) in frames)
            {
                try
                {
                    var record = KmsgParser.Parse(Encoding.UTF8.GetBytes(text), truncated, "g", 1, DateTimeOffset.Now);
                    Assert.DoesNotContain(record.GetDisplayMessage(), char.IsControl);
                    Assert.InRange(record.GetRawMessage().Length, 0, maxRecordLength);
                }
                catch (KmsgFormatException)
                {
                }
            }
        }));
    }

    private static void AssertSameRecord(KmsgRecord expected, KmsgRecord actual)
    {
        Assert.Equal(expected.Sequence, actual.Sequence);
        Assert.Equal(expected.SinceBoot, actual.SinceBoot);
        Assert.Equal(expected.Level, actual.Level);
        Assert.Equal(expected.Facility, actual.Facility);
        Assert.Equal(expected.Flags, actual.Flags);
        Assert.Equal(expected.Caller, actual.Caller);
        Assert.Equal(expected.Message, actual.Message);
        Assert.Equal(expected.GetRawMessage(), actual.GetRawMessage());
        Assert.Equal(expected.Fields.OrderBy(f => f.Key, StringComparer.Ordinal), actual.Fields.OrderBy(f => f.Key, StringComparer.Ordinal));
        Assert.False(actual.Truncated);
    }

    private static byte[] Mutate(byte[] start, IEnumerable<(int Kind, int Position, byte Value)> mutations)
    {
        var bytes = start.ToList();
        foreach (var (kind, position, value) in mutations)
        {
            var at = bytes.Count == 0 ? 0 : position % bytes.Count;
            switch (kind)
            {
                case 0 when bytes.Count > 0:
                    bytes[at] = value;
                    break;
                case 1:
                    bytes.Insert(at, value);
                    break;
                case 2 when bytes.Count > 0:
                    bytes.RemoveAt(at);
                    break;
                case 3:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
            }
        }

        return [.. bytes];
    }

    private static IEnumerable<byte[]> Chunk(byte[] bytes, int[] cuts)
    {
        var offset = 0;
        var i = 0;
        while (offset < bytes.Length)
        {
            var length = Math.Min(cuts.Length == 0 ? bytes.Length : cuts[i++ % cuts.Length], bytes.Length - offset);
            yield return bytes[offset..(offset + length)];
            offset += length;
        }
    }
}
