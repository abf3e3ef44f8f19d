using System.Formats.Tar;
using System.Text;
using VmDebug.Engine;
using VmDebug.Engine.VirtioTrace;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.VirtioTrace;

/// <summary>
/// The receiver on real FIFOs, with the test in QEMU's place (it holds each FIFO open read-write, as char-pipe.c does).
/// The real guest runs in tests/pester/Receive-VirtioTrace.Tests.ps1; these cover what a healthy guest won't send.
/// </summary>
public class VirtioTraceReceiverTests
{
    private sealed class FakeQemu : IDisposable
    {
        public FakeQemu(string dir, int cpus, bool metadata)
        {
            Directory = dir;
            var channels = VirtioTraceChannelPlanner.Plan(cpus, dir, metadata);
            VirtioTraceFifos.Create(dir, channels);
            Control = Open(channels[0].HostInput);
            Cpus = channels.Where(c => c.Cpu is not null).Select(c => Open(c.HostOutput)).ToList();
            if (metadata)
            {
                Metadata = Open(channels[^1].HostOutput);
            }
        }

        public string Directory { get; }
        public FileStream Control { get; }
        public List<FileStream> Cpus { get; }
        public FileStream? Metadata { get; }

        private static FileStream Open(string path) => new(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 0);

        public void Dispose()
        {
            Control.Dispose();
            Cpus.ForEach(c => c.Dispose());
            Metadata?.Dispose();
        }
    }

    private static VirtioTraceReceiveRequest Request(string dir, string output, double seconds = 1) => new()
    {
        Directory = dir,
        OutputPath = output,
        Duration = TimeSpan.FromSeconds(seconds),
        DrainQuiet = TimeSpan.FromMilliseconds(300),
        DrainLimit = TimeSpan.FromSeconds(5),
    };

    [Fact]
    public async Task SendsStartAndStopOrdersAndCountsEveryCpusPages()
    {
        using var host = new TestHost();
        using var qemu = new FakeQemu(Path.Combine(host.Root, "fifos"), 2, metadata: false);
        var page = new RingBufferPageCounterTests.PageBuilder().Small(2).Small(3).Large(100).Build();
        // More than a FIFO holds (64 KiB): only a concurrent reader lets all of it through.
        var writers = qemu.Cpus.Select((fifo, cpu) => Task.Run(() => { for (var i = 0; i < 40 * (cpu + 1); i++) { fifo.Write(page); } })).ToList();

        var capture = await VirtioTraceReceiver.ReceiveAsync(Request(qemu.Directory, Path.Combine(host.Root, "out")), null, CancellationToken.None);
        await Task.WhenAll(writers);

        Assert.Equal([40L, 80L], capture.Cpus.Select(c => c.Pages));
        Assert.Equal([120L, 240L], capture.Cpus.Select(c => c.Events));
        Assert.Equal(120 * 4096L, capture.Bytes);
        Assert.Equal(File.ReadAllBytes(capture.Cpus[1].Path), Enumerable.Repeat(page, 80).SelectMany(p => p).ToArray());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(capture.Cpus[0].Path));
        var orders = new byte[4];
        Assert.Equal(4, qemu.Control.Read(orders));
        Assert.Equal("1\n0\n", Encoding.ASCII.GetString(orders));
        Assert.Empty(capture.RestoreCommands);
    }

    [Fact]
    public async Task CancellationStopsTheAgentAndKeepsWhatArrived()
    {
        using var host = new TestHost();
        using var qemu = new FakeQemu(Path.Combine(host.Root, "fifos"), 1, metadata: false);
        qemu.Cpus[0].Write(new RingBufferPageCounterTests.PageBuilder().Small(1).Build());
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        var capture = await VirtioTraceReceiver.ReceiveAsync(Request(qemu.Directory, Path.Combine(host.Root, "out")) with { Duration = null }, null, cts.Token);
        Assert.Equal(1, capture.Events);
        Assert.Equal(4096, File.ReadAllBytes(capture.Cpus[0].Path).Length);
    }

    [Fact]
    public async Task MetadataIsUnpackedInsideTheOutputOnlyAndRestoreCommandsFollow()
    {
        using var host = new TestHost();
        using var qemu = new FakeQemu(Path.Combine(host.Root, "fifos"), 1, metadata: true);
        var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Ustar, leaveOpen: true))
        {
            writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "./events/header_page") { DataStream = new MemoryStream("field: u64 timestamp;\n"u8.ToArray()) });
            writer.WriteEntry(new UstarTarEntry(TarEntryType.SymbolicLink, "./kallsyms") { LinkName = "/etc/shadow" });
        }
        qemu.Metadata!.Write(tar.ToArray());

        var output = Path.Combine(host.Root, "out");
        var capture = await VirtioTraceReceiver.ReceiveAsync(Request(qemu.Directory, output), null, CancellationToken.None);
        Assert.Equal(Path.Combine(output, "tracing"), capture.MetadataPath);
        Assert.Equal("field: u64 timestamp;\n", File.ReadAllText(Path.Combine(output, "tracing", "events", "header_page")));
        Assert.False(File.Exists(Path.Combine(output, "tracing", "kallsyms"))); // links are not made
        Assert.Equal(2, capture.RestoreCommands.Count);
        Assert.StartsWith($"trace-cmd restore -c -t '{output}/tracing'", capture.RestoreCommands[0]);

        // An archive that climbs out of the output is not unpacked; the receive still succeeds and says why.
        var evil = new MemoryStream();
        using (var writer = new TarWriter(evil, TarEntryFormat.Ustar, leaveOpen: true))
        {
            writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "../../escaped") { DataStream = new MemoryStream([1]) });
        }

        qemu.Metadata.Write(evil.ToArray());
        var second = await VirtioTraceReceiver.ReceiveAsync(Request(qemu.Directory, Path.Combine(host.Root, "out2")), null, CancellationToken.None);
        Assert.Null(second.MetadataPath);
        Assert.Contains(second.Warnings, w => w.Contains("outside the archive", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(host.Root, "escaped")));
    }

    [Fact]
    public async Task WithoutQemuTheReceiveFailsAtOnceAndLeavesNothing()
    {
        using var host = new TestHost();
        var dir = Path.Combine(host.Root, "fifos");
        VirtioTraceFifos.Create(dir, VirtioTraceChannelPlanner.Plan(1, dir, false));
        var output = Path.Combine(host.Root, "out");
        var e = await Assert.ThrowsAsync<VmDebugException>(() => VirtioTraceReceiver.ReceiveAsync(Request(dir, output, 30), null, CancellationToken.None));
        Assert.Equal("VirtioTraceGuestNotConnected", e.ErrorId);
        Assert.False(File.Exists(Path.Combine(output, "trace-cpu0.raw")));
    }
}
