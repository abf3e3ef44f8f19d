using System.Text;
using System.Text.Json.Nodes;
using VmDebug.Engine.Guest;
using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.Pstore;
using VmDebug.Engine.Qmp;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Pstore;

/// <summary>
/// Real guests with a ramoops region (memmap= reservation, ramoops.* parameters): one that finishes its panic
/// (-action panic=none, panic=1) and warm-reboots in the same QEMU, read over QMP and from a dump and compared with
/// what the guest itself prints from /sys/fs/pstore; and one that pvpanic pauses before pstore writes.
/// </summary>
public sealed class PstoreLiveTests : IDisposable
{
    internal const ulong RegionAddress = 0x30000000;

    internal static readonly string[] RamoopsArguments =
    [
        "memmap=1M$0x30000000", "ramoops.mem_address=0x30000000", "ramoops.mem_size=0x100000", "ramoops.record_size=0x20000",
    ];

    private readonly string _dir = TempFiles.NewDirectory();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task APanicRecordReadOverQmpAndFromADumpIsWhatTheGuestShowsAfterItsWarmReboot()
    {
        // panic_after applies to every boot: 3 s leaves time to stop the second boot before it panics again.
        await using var guest = await QemuGuest.StartAsync(TestEnvironment.Guest, new GuestLaunchOptions
        {
            MemoryMiB = 1024,
            PanicAfterSeconds = 3,
            PanicAction = "none",
            AllowReboot = true,
            KernelArguments = [.. RamoopsArguments, "vmdebug.pstore_show=1", "panic=1"],
        }, cancellationToken: Ct);
        var shown = await WaitForPstoreShowAsync(guest, "dmesg-ramoops-0");
        await using (var qmp = await QmpClient.ConnectAsync(guest.QmpSocketPath, null, Ct))
        {
            await qmp.StopAsync(cancellationToken: Ct);
        }

        var live = await PstoreReader.ReadAsync(new PstoreRequest { Target = new GuestKernelTarget { QmpSocket = guest.QmpSocketPath } }, Ct);
        Assert.Equal("command line", live.LayoutFrom);
        Assert.Equal(RegionAddress, live.Layout.MemAddress);
        var record = Assert.Single(live.Records);
        Assert.Equal((PstoreKind.Dmesg, "Panic", 1, 1), (record.Kind, record.Reason, record.Count, record.Part));
        Assert.True(record.Compressed);
        Assert.Equal("deflate", record.Codec); // Debian's default pstore compression
        Assert.Contains("Kernel panic - not syncing: sysrq triggered crash", record.Summary, StringComparison.Ordinal);
        Assert.InRange(record.Time!.Value, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Equal(shown, record.Text);
        Assert.Empty(live.Warnings); // every zone of the kernel's layout found, with its signature

        var dump = Path.Combine(_dir, "after-reboot.elf");
        await using (var qmp = await QmpClient.ConnectAsync(guest.QmpSocketPath, null, Ct))
        {
            await qmp.ExecuteAsync("dump-guest-memory", new JsonObject { ["paging"] = false, ["protocol"] = "file:" + dump, ["format"] = "elf" },
                TimeSpan.FromMinutes(3), Ct);
        }
        var fromDump = await PstoreReader.ReadAsync(new PstoreRequest { Target = new GuestKernelTarget { Path = dump } }, Ct);
        Assert.Equal(record.Text, Assert.Single(fromDump.Records).Text);
        var (code, stdout, stderr) = await VmDebug.Tests.Support.Cli.RunAsync("pstore", "--input", dump, "--json");
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)))!;
        Assert.Equal(("Dmesg", "Panic", record.Text), (json["kind"]!.GetValue<string>(), json["reason"]!.GetValue<string>(), json["text"]!.GetValue<string>()));

        // The same dump with the record's zone header corrupted (size beyond the zone): a warning and no record, no crash.
        CorruptFirstZoneHeader(dump);
        var corrupt = await PstoreReader.ReadAsync(new PstoreRequest { Target = new GuestKernelTarget { Path = dump } }, Ct);
        Assert.Empty(corrupt.Records);
        Assert.Contains(corrupt.Warnings, w => w.Contains("header is corrupt", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AGuestPausedByPvpanicBeforePstoreWroteIsExplained()
    {
        await using var guest = await QemuGuest.StartAsync(TestEnvironment.Guest, new GuestLaunchOptions
        {
            MemoryMiB = 1024,
            PanicAfterSeconds = 1,
            PanicAction = "pause",
            KernelArguments = RamoopsArguments,
        }, cancellationToken: Ct);
        await WaitForStatusAsync(guest, "guest-panicked");
        var error = await Assert.ThrowsAsync<PstoreException>(() =>
            PstoreReader.ReadAsync(new PstoreRequest { Target = new GuestKernelTarget { QmpSocket = guest.QmpSocketPath } }, Ct));
        Assert.Equal(PstoreException.PausedBeforeWrite, error.ErrorId);
        Assert.Contains("sysrq triggered crash", error.Message, StringComparison.Ordinal);
        Assert.Contains("-action panic=none", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The text the guest's init printed between "vmdebug pstore begin NAME" and "vmdebug pstore end", tty CRs removed.</summary>
    internal static async Task<string> WaitForPstoreShowAsync(QemuGuest guest, string name)
    {
        var begin = $"vmdebug pstore begin {name}\n";
        const string End = "vmdebug pstore end\n";
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (true)
        {
            var console = File.Exists(guest.ConsoleLogPath) ? (await File.ReadAllTextAsync(guest.ConsoleLogPath, Ct)).Replace("\r\n", "\n", StringComparison.Ordinal) : "";
            var at = console.IndexOf(begin, StringComparison.Ordinal);
            var end = at < 0 ? -1 : console.IndexOf(End, at, StringComparison.Ordinal);
            if (end >= 0)
            {
                return console[(at + begin.Length)..end];
            }
            Assert.False(guest.HasExited, "QEMU exited: " + guest.ReadStderrTail());
            Assert.True(DateTime.UtcNow < deadline, $"the guest never printed {name} from /sys/fs/pstore:\n{console[Math.Max(0, console.Length - 2000)..]}");
            await Task.Delay(50, Ct);
        }
    }

    internal static async Task WaitForStatusAsync(QemuGuest guest, string status)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (true)
        {
            await using (var qmp = await QmpClient.ConnectAsync(guest.QmpSocketPath, null, Ct))
            {
                if ((await qmp.QueryStatusAsync(cancellationToken: Ct)).Status == status)
                {
                    return;
                }
            }
            Assert.True(DateTime.UtcNow < deadline, $"the guest never reached {status}");
            await Task.Delay(250, Ct);
        }
    }

    /// <summary>Finds the dmesg zone holding a record ("DBGC", start, size, then "====") in the ELF dump and sets its size past the zone.</summary>
    private static void CorruptFirstZoneHeader(string dump)
    {
        using var file = new FileStream(dump, FileMode.Open, FileAccess.ReadWrite);
        var window = new byte[1 << 20];
        var marker = "DBGC"u8.ToArray();
        for (long at = 0; at < file.Length; at += window.Length - 32)
        {
            file.Position = at;
            var n = file.Read(window);
            var span = window.AsSpan(0, n);
            for (var i = span.IndexOf(marker); i >= 0 && i + 16 <= n; i = span[(i + 1)..].IndexOf(marker) is var next && next >= 0 ? i + 1 + next : -1)
            {
                if (Encoding.ASCII.GetString(span.Slice(i + 12, 4)) == "====")
                {
                    file.Position = at + i + 8;
                    file.Write(BitConverter.GetBytes(0xfffffff0u));
                    return;
                }
            }
        }
        Assert.Fail("the dump holds no ramoops zone with a record");
    }
}
