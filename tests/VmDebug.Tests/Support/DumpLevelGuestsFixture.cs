using System.Text.Json.Nodes;
using VmDebug.Engine.Guest;
using VmDebug.Engine.Panic;
using VmDebug.Engine.Qmp;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Tests.Support;

/// <summary>
/// One panicked test guest per kernel series (6.1 and 6.12, booted side by side), dumped once by QEMU as ELF and
/// repaired so makedumpfile reads it: the shared input of the dump-level tests.
/// </summary>
public sealed class DumpLevelGuestsFixture : IAsyncLifetime
{
    public static readonly string[] Series = ["6.1", "6.12"];

    private readonly Dictionary<string, (GuestImage Image, string Elf)> _dumps = new();

    public string Directory { get; } = TempFiles.NewDirectory();

    /// <summary>The repaired ELF of the guest on <paramref name="series"/> and its image (vmlinux for crash); skips without QEMU.</summary>
    public (GuestImage Image, string Elf) Dump(string series)
    {
        TestEnvironment.RequireTool(QemuGuest.QemuBinary, "qemu-system-x86");
        return _dumps[series];
    }

    public async ValueTask InitializeAsync()
    {
        if (TestEnvironment.FindTool(QemuGuest.QemuBinary) is null)
        {
            return;
        }
        var dumps = await Task.WhenAll(Series.Select(DumpGuestAsync));
        foreach (var (series, image, elf) in dumps)
        {
            _dumps[series] = (image, elf);
        }
    }

    private async Task<(string, GuestImage, string)> DumpGuestAsync(string series)
    {
        var image = TestEnvironment.GuestWithDebugSymbolsFor(series);
        var raw = Path.Combine(Directory, $"qemu-{series}.elf");
        await using (var guest = await QemuGuest.StartAsync(image, new GuestLaunchOptions { Markers = 8, PanicAfterSeconds = 0 }))
        {
            await GuestPanicWatcher.WaitAsync(guest.QmpSocketPath, TimeSpan.FromSeconds(180), CancellationToken.None);
            await using var qmp = await QmpClient.ConnectAsync(guest.QmpSocketPath, null, CancellationToken.None);
            await qmp.ExecuteAsync("dump-guest-memory", new JsonObject { ["paging"] = false, ["protocol"] = "file:" + raw, ["format"] = "elf" },
                TimeSpan.FromMinutes(3), CancellationToken.None);
        }
        var elf = Path.Combine(Directory, $"guest-{series}.elf");
        await VmcoreRepairer.RepairAsync(raw, elf);
        File.Delete(raw);
        return (series, image, elf);
    }

    public ValueTask DisposeAsync()
    {
        System.IO.Directory.Delete(Directory, recursive: true);
        return ValueTask.CompletedTask;
    }
}
