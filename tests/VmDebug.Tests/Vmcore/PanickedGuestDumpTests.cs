using System.Text.Json.Nodes;
using VmDebug.Engine.Compression;
using VmDebug.Engine.Guest;
using VmDebug.Engine.Panic;
using VmDebug.Engine.Qmp;
using VmDebug.Engine.Vmcore;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Vmcore;

/// <summary>
/// A real kernel panics under QEMU; its QMP dumps (with VMCOREINFO) are repaired and written by VmDebug, then read by
/// makedumpfile --dump-dmesg and crash with the -dbg vmlinux: the independent readers decide.
/// </summary>
public sealed class PanickedGuestDumpTests : IDisposable
{
    private const int Markers = 12;
    private readonly string _dir = TempFiles.NewDirectory();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task RepairedAndRewrittenDumpsOfAPanickedGuestPassMakedumpfileAndCrash()
    {
        var ct = TestContext.Current.CancellationToken;
        var makedumpfile = TestEnvironment.RequireTool("makedumpfile", "makedumpfile");
        var image = TestEnvironment.Guest;
        var elf = Path.Combine(_dir, "qemu.elf");
        var kdump = Path.Combine(_dir, "qemu.kdump-zlib");
        await using (var guest = await QemuGuest.StartAsync(image, new GuestLaunchOptions { PanicAfterSeconds = 0, Markers = Markers }, cancellationToken: ct))
        {
            await GuestPanicWatcher.WaitAsync(guest.QmpSocketPath, TimeSpan.FromSeconds(120), ct);
            await using var qmp = await QmpClient.ConnectAsync(guest.QmpSocketPath, null, ct);
            foreach (var (path, format) in new[] { (elf, "elf"), (kdump, "kdump-zlib") })
            {
                await qmp.ExecuteAsync("dump-guest-memory",
                    new JsonObject { ["paging"] = false, ["protocol"] = "file:" + path, ["format"] = format }, TimeSpan.FromMinutes(2), ct);
            }
        }

        using (var qemuKdump = Assert.IsType<KdumpReader>(VmcoreFile.Open(kdump)))
        {
            var info = Assert.IsType<VmcoreInfo>(qemuKdump.VmcoreInfo);
            Assert.Equal(image.Release, info.OsRelease);
            Assert.NotNull(info.PhysBase);
            Assert.Contains(VmcoreRepairer.FlattenedReassembled, VmcoreRepairer.Plan(qemuKdump).Select(r => r.Code));
            Assert.Contains(VmcoreRepairer.UtsReleaseFilled, VmcoreRepairer.Plan(qemuKdump).Select(r => r.Code));
        }

        var repairedKdump = Path.Combine(_dir, "repaired.kdump");
        var repairedElf = Path.Combine(_dir, "repaired.elf");
        await VmcoreRepairer.RepairAsync(kdump, repairedKdump, cancellationToken: ct);
        await VmcoreRepairer.RepairAsync(elf, repairedElf, cancellationToken: ct);

        var written = new List<string> { repairedKdump, repairedElf };
        using (var source = VmcoreFile.Open(repairedElf))
        {
            foreach (var compression in new[] { PageCompression.Zlib, PageCompression.Lzo })
            {
                var path = Path.Combine(_dir, $"ours.{compression}.kdump");
                await using (var output = File.Create(path))
                {
                    await KdumpWriter.WriteAsync(source, output, new KdumpWriteOptions { Compression = compression }, cancellationToken: ct);
                }
                written.Add(path);
            }
            var ourElf = Path.Combine(_dir, "ours.elf");
            await using (var output = File.Create(ourElf))
            {
                await ElfVmcoreWriter.WriteAsync(source, output, cancellationToken: ct);
            }
            written.Add(ourElf);
        }

        foreach (var path in written)
        {
            var log = Path.Combine(_dir, Path.GetFileName(path) + ".dmesg");
            var result = await TestEnvironment.RunAsync(makedumpfile, ["--dump-dmesg", "--message-level", "0", path, log]);
            Assert.True(result.ExitCode == 0, $"makedumpfile --dump-dmesg {Path.GetFileName(path)}: {result.Stderr}{result.Stdout}");
            var text = File.ReadAllText(log);
            Assert.Contains("Kernel panic - not syncing", text);
            Assert.Contains($"vmdebug marker {Markers}", text);
        }

        var vmlinux = TestEnvironment.GuestWithDebugSymbols.Vmlinux!;
        foreach (var path in new[] { repairedKdump, Path.Combine(_dir, "ours.Zlib.kdump") })
        {
            Assert.Contains("Kernel panic - not syncing", await PeerTools.CrashLogAsync(vmlinux, path));
        }
    }
}
