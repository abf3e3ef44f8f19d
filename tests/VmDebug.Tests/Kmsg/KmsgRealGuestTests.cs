using VmDebug.Engine.Guest;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Kmsg;

/// <summary>A real QEMU guest copies /dev/kmsg into a virtio-serial port whose chardev socket the stream reads.</summary>
public class KmsgRealGuestTests
{
    [Fact]
    public async Task StreamsTheGuestsKernelLogOverVirtioSerial()
    {
        const int Markers = 5;
        var ct = TestContext.Current.CancellationToken;
        var image = TestEnvironment.Guest;
        await using var guest = await QemuGuest.StartAsync(image,
            new GuestLaunchOptions { KmsgPort = true, Markers = Markers, MarkerLevel = 3 }, cancellationToken: ct);

        var records = new List<KmsgRecord>();
        var events = new List<KmsgStreamEvent>();
        await foreach (var item in KmsgStream.ReadAsync(KmsgSource.ChardevSocket(guest.KmsgSocketPath),
                           new KmsgStreamOptions { Timeout = TimeSpan.FromMinutes(2) }, ct))
        {
            if (item is KmsgStreamEvent streamEvent)
            {
                events.Add(streamEvent);
                continue;
            }

            var record = (KmsgRecord)item;
            records.Add(record);
            if (record.Message == $"vmdebug marker {Markers}")
            {
                break;
            }
        }

        var first = records.FirstOrDefault();
        Assert.True(first is not null, $"no record arrived; console: {guest.ReadConsole()}");
        Assert.Equal(0UL, first.Sequence);
        Assert.StartsWith("Linux version ", first.Message);
        Assert.Equal(KmsgFacility.Kern, first.Facility);
        Assert.Equal(guest.KmsgSocketPath, first.Guest);

        var markers = records.Where(r => r.Message.StartsWith("vmdebug marker ", StringComparison.Ordinal)).ToList();
        Assert.Equal(Enumerable.Range(1, Markers).Select(i => $"vmdebug marker {i}"), markers.Select(m => m.Message));
        Assert.All(markers, m => Assert.Equal(KmsgLevel.Err, m.Level));
        // Written from userspace through /dev/kmsg, the markers carry facility user (1), as the kernel assigns.
        Assert.All(markers, m => Assert.Equal(KmsgFacility.User, m.Facility));
        Assert.True(records.Zip(records.Skip(1)).All(pair => pair.Second.Sequence > pair.First.Sequence), "sequence numbers must increase");
        Assert.DoesNotContain(events, e => e.Kind is KmsgEventKind.MalformedRecord or KmsgEventKind.SequenceReset);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{records.Count} records, last sequence {records[^1].Sequence}, markers at {string.Join(", ", markers.Select(m => m.Sequence))}");
    }
}
