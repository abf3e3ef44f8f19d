using System.Text.Json.Nodes;
using VmDebug.Engine.Guest;
using VmDebug.Engine.Panic;
using VmDebug.Engine.Qmp;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Tests.Support;

/// <summary>
/// One real guest that wrote markers and panicked (sysrq c), dumped by QEMU as ELF and as flattened kdump-zlib, plus
/// the ELF repaired for makedumpfile and crash. QEMU is gone once the dumps exist; the tests of a class share them.
/// </summary>
public abstract class PanickedKernelFixture : IAsyncLifetime
{
    private readonly string _directory = TempFiles.NewDirectory();
    private string? _skip;

    protected abstract GuestImage LoadImage();

    protected abstract GuestLaunchOptions Options { get; }

    public GuestImage Image { get; private set; } = null!;

    /// <summary>QEMU's own ELF output (program headers at 192, p_vaddr 0): makedumpfile 1.7.2 cannot read it, VmDebug can.</summary>
    public string QemuElf => Path.Combine(_directory, "qemu.elf");

    /// <summary>QEMU's kdump-zlib output: the flattened stream.</summary>
    public string QemuFlattened => Path.Combine(_directory, "qemu.kdump-zlib");

    /// <summary>The ELF repaired so makedumpfile and crash read it.</summary>
    public string RepairedElf => Path.Combine(_directory, "repaired.elf");

    public string Directory => _directory;

    public void SkipIfUnavailable()
    {
        if (_skip is not null)
        {
            Assert.Skip(_skip);
        }
    }

    public async ValueTask InitializeAsync()
    {
        if (TestEnvironment.FindTool(QemuGuest.QemuBinary) is null)
        {
            _skip = "qemu-system-x86_64 is not installed (apt package qemu-system-x86)";
            return;
        }
        Image = LoadImage();
        await using var guest = await QemuGuest.StartAsync(Image, Options with { PanicAfterSeconds = 0 });
        await GuestPanicWatcher.WaitAsync(guest.QmpSocketPath, TimeSpan.FromSeconds(180), CancellationToken.None);
        await using (var qmp = await QmpClient.ConnectAsync(guest.QmpSocketPath))
        {
            foreach (var (path, format) in new[] { (QemuElf, "elf"), (QemuFlattened, "kdump-zlib") })
            {
                await qmp.ExecuteAsync("dump-guest-memory",
                    new JsonObject { ["paging"] = false, ["protocol"] = "file:" + path, ["format"] = format }, TimeSpan.FromMinutes(3));
            }
        }
        await VmcoreRepairer.RepairAsync(QemuElf, RepairedElf);
    }

    public ValueTask DisposeAsync()
    {
        System.IO.Directory.Delete(_directory, recursive: true);
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// The test guest's 6.1 cloud kernel, two vCPUs (so one RIP is idle kernel text), with the vmcoreinfo device and a
/// log_buf_len above the built-in ring's, so the ring is allocated at boot in the direct map and every read of it
/// goes through a page walk (the static ring sits in the kernel image).
/// </summary>
public sealed class Kernel61Fixture : PanickedKernelFixture
{
    public const int Markers = 20;

    protected override GuestImage LoadImage() => TestEnvironment.GuestWithDebugSymbols;

    protected override GuestLaunchOptions Options => new() { MemoryMiB = 256, Cpus = 2, Markers = Markers, KernelArguments = ["log_buf_len=256K"] };
}

/// <summary>The test classes that read the 6.1 guest's dumps share one guest (it boots once).</summary>
[CollectionDefinition(Name)]
public sealed class Kernel61Collection : ICollectionFixture<Kernel61Fixture>
{
    public const string Name = "Kernel 6.1 panicked guest";
}

/// <summary>Debian's 6.12 cloud kernel with 5-level paging (-cpu max,+la57, which TCG emulates).</summary>
public sealed class Kernel612La57Fixture : PanickedKernelFixture
{
    protected override GuestImage LoadImage() => TestEnvironment.Guest612WithDebugSymbols;

    protected override GuestLaunchOptions Options => new() { MemoryMiB = 256, Cpus = 2, Markers = 10, CpuModel = "max,+la57" };
}

/// <summary>
/// 6.1 without the vmcoreinfo device (the dumps carry no VMCOREINFO note) and a wrapped ring: 6000 markers overflow
/// the default 128 KiB text ring and its 4096 descriptors, so the oldest records are gone.
/// </summary>
public sealed class WrappedNoVmcoreInfoFixture : PanickedKernelFixture
{
    public const int Markers = 6000;

    protected override GuestImage LoadImage() => TestEnvironment.GuestWithDebugSymbols;

    protected override GuestLaunchOptions Options => new()
    {
        MemoryMiB = 256,
        Markers = Markers,
        VmcoreInfoDevice = false,
        KernelArguments = ["printk.devkmsg=on"],
    };
}
