using VmDebug.Engine;
using VmDebug.Engine.Dump;
using VmDebug.Engine.Qmp;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Dump;

/// <summary>Dumps of a real panicked guest over QMP, read back by makedumpfile and crash.</summary>
public sealed class QmpDumpTests(PanickedGuestFixture fixture) : IClassFixture<PanickedGuestFixture>
{
    public static TheoryData<DumpFormat> Formats => [DumpFormat.Elf, DumpFormat.KdumpZlib, DumpFormat.KdumpLzo, DumpFormat.KdumpSnappy, DumpFormat.KdumpZstd];

    /// <summary>
    /// Every format streams through VmDebug's pipe (QEMU writes only ELF into it), whatever QEMU itself could write:
    /// Debian's QEMU writes no LZO or snappy, and no QEMU writes zstd.
    /// </summary>
    [Theory]
    [MemberData(nameof(Formats))]
    public async Task EveryFormatStreamsAndOpensInMakedumpfileAndCrash(DumpFormat format)
    {
        var ct = TestContext.Current.CancellationToken;
        var image = TestEnvironment.GuestWithDebugSymbols;
        using var directory = new TempDirectory();
        var path = directory.File("vmcore");
        var dump = await DumpAsync(format, path, ct);

        Assert.Equal(path, dump.Path);
        Assert.Equal(format, dump.Format);
        Assert.Equal(image.Release, dump.KernelRelease);
        Assert.NotNull(dump.PhysBase);
        Assert.Empty(dump.Warnings);
        Assert.Equal(new FileInfo(path).Length, dump.SizeBytes);
        // QEMU's dump includes its small ROM blocks beside the 512 MiB of RAM.
        Assert.InRange(dump.GuestRamBytes, 500UL << 20, 520UL << 20);
        // VmDebug wrote the file itself in the layout peers read: nothing to repair.
        Assert.Empty(dump.Repairs);
        Assert.NotNull(dump.GuestPaused);
        Assert.True(dump.GuestPaused <= dump.Duration);
        Assert.Equal(format != DumpFormat.Elf, dump.Pages is not null);
        AssertPrivateFile(path);
        Assert.Equal([path], Directory.GetFileSystemEntries(Path.GetDirectoryName(path)!));

        // Debian's makedumpfile links zlib and LZO only.
        if (format is DumpFormat.Elf or DumpFormat.KdumpZlib or DumpFormat.KdumpLzo)
        {
            var dmesg = await PeerTools.MakedumpfileDmesgAsync(path);
            Assert.Contains($"vmdebug marker {PanickedGuestFixture.Markers}", dmesg);
            Assert.Contains("Kernel panic - not syncing", dmesg);
        }

        var log = await PeerTools.CrashLogAsync(image.Vmlinux!, path);
        Assert.Contains("Kernel panic - not syncing: sysrq triggered crash", log);
        Assert.Contains("vmdebug marker 1", log);
    }

    [Fact]
    public async Task WinDmpIsRefusedUpFrontForALinuxGuest()
    {
        var ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory();
        var error = await Assert.ThrowsAsync<VmDebugException>(() => DumpAsync(DumpFormat.WinDmp, directory.File("vmcore"), ct));
        Assert.Equal("WinDmpNotAvailable", error.ErrorId);
        Assert.Contains("not a Windows dump header", error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(directory.Path));
    }

    [Fact]
    public async Task AnExistingFileIsLeftUntouchedWithoutForceAndReplacedWithIt()
    {
        var ct = TestContext.Current.CancellationToken;
        using var scratch = new TempDirectory();
        var directory = scratch.Path;
        var path = Path.Combine(directory, "vmcore");
        await File.WriteAllTextAsync(path, "precious", ct);
        var request = new DumpRequest { QmpSocket = fixture.Guest.QmpSocketPath, Path = path, Format = DumpFormat.KdumpZlib };

        var error = await Assert.ThrowsAsync<VmDebugException>(() => GuestMemoryDumper.DumpAsync(request, Progress(), ct));
        Assert.Equal("DumpFileExists", error.ErrorId);
        Assert.Equal(ErrorKind.ResourceExists, error.Kind);
        Assert.Equal("precious", await File.ReadAllTextAsync(path, ct));

        var dump = await GuestMemoryDumper.DumpAsync(request with { Force = true }, Progress(), ct);
        Assert.StartsWith("KDUMP   ", System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(path).AsSpan(0, 8)));
        Assert.Single(Directory.GetFiles(directory));
        AssertPrivateFile(dump.Path);
    }

    [Fact]
    public async Task ASymlinkAtTheDestinationIsNotFollowed()
    {
        var ct = TestContext.Current.CancellationToken;
        using var scratch = new TempDirectory();
        var directory = scratch.Path;
        var victim = Path.Combine(directory, "victim");
        await File.WriteAllTextAsync(victim, "precious", ct);
        var link = Path.Combine(directory, "vmcore");
        File.CreateSymbolicLink(link, victim);
        var request = new DumpRequest { QmpSocket = fixture.Guest.QmpSocketPath, Path = link, Format = DumpFormat.KdumpZlib };

        // Decided in issue 12: a symlink is neither followed nor replaced, with or without -Force.
        foreach (var force in new[] { false, true })
        {
            var error = await Assert.ThrowsAsync<VmDebugException>(() => GuestMemoryDumper.DumpAsync(request with { Force = force }, Progress(), ct));
            Assert.Equal("DumpPathNotRegularFile", error.ErrorId);
            Assert.Equal(link, error.Target);
        }
        Assert.Equal("precious", await File.ReadAllTextAsync(victim, ct));
        Assert.Equal(victim, new FileInfo(link).LinkTarget);
    }

    [Fact]
    public async Task AMissingDirectoryIsNamed()
    {
        var ct = TestContext.Current.CancellationToken;
        var directory = Path.Combine(Path.GetTempPath(), "vmdebug-absent-" + Guid.NewGuid().ToString("N"));
        var request = new DumpRequest { QmpSocket = fixture.Guest.QmpSocketPath, Path = Path.Combine(directory, "vmcore") };
        var error = await Assert.ThrowsAsync<VmDebugException>(() => GuestMemoryDumper.DumpAsync(request, Progress(), ct));
        Assert.Equal("DumpDirectoryNotFound", error.ErrorId);
        Assert.Contains(directory, error.Message);
    }

    [Fact]
    public async Task AnUnwritableDirectoryIsNamed()
    {
        var ct = TestContext.Current.CancellationToken;
        using var readOnly = await TmpfsMount.CreateAsync("ro,size=1m");
        var request = new DumpRequest { QmpSocket = fixture.Guest.QmpSocketPath, Path = Path.Combine(readOnly.Path, "vmcore") };

        var error = await Assert.ThrowsAsync<VmDebugException>(() => GuestMemoryDumper.DumpAsync(request, Progress(), ct));

        Assert.Contains(readOnly.Path, error.Message);
        Assert.Contains(error.ErrorId, new[] { "DumpDirectoryNotWritable", "DumpFileNotCreated" });
    }

    [Fact]
    public async Task AFullDiskFailsAndLeavesNoPartialFile()
    {
        var ct = TestContext.Current.CancellationToken;
        using var small = await TmpfsMount.CreateAsync("size=16m");
        var request = new DumpRequest { QmpSocket = fixture.Guest.QmpSocketPath, Path = Path.Combine(small.Path, "vmcore"), Format = DumpFormat.Elf };

        var error = await Assert.ThrowsAsync<VmDebugException>(() => GuestMemoryDumper.DumpAsync(request, Progress(), ct));

        // VmDebug's own write fails (QEMU writes only into the pipe), and closing the pipe ends QEMU's dump.
        Assert.Equal("DumpWriteFailed", error.ErrorId);
        Assert.Equal(ErrorKind.WriteError, error.Kind);
        Assert.Contains("No space left on device", error.Message);
        // The file asked for, not a temporary the user never named.
        Assert.Equal(request.Path, error.Target);
        Assert.Contains($"'{request.Path}'", error.Message);
        Assert.DoesNotContain(".partial", error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(small.Path));
        Assert.Equal(QmpDumpState.Failed, await DumpStateAfterAsync(fixture.Guest.QmpSocketPath, ct));
    }

    /// <summary>What query-dump settles on once QEMU's write into the closed pipe has failed (it is not active for long).</summary>
    internal static async Task<QmpDumpState> DumpStateAfterAsync(string socket, CancellationToken ct)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            await using var qmp = await QmpClient.ConnectAsync(socket, null, ct);
            var state = (await qmp.QueryDumpAsync(null, ct)).Status;
            if (state != QmpDumpState.Active || clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                return state;
            }
            await Task.Delay(50, ct);
        }
    }

    [Fact]
    public async Task ASocketThatIsNotQemuGivesAClearError()
    {
        var ct = TestContext.Current.CancellationToken;
        using var scratch = new TempDirectory();
        var directory = scratch.Path;
        var socketPath = Path.Combine(directory, "ssh.sock");
        using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, 0);
        listener.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(socketPath));
        listener.Listen();
        var server = Task.Run(async () =>
        {
            using var peer = await listener.AcceptAsync(ct);
            await peer.SendAsync("SSH-2.0-OpenSSH_9.2\r\n"u8.ToArray(), ct);
            await Task.Delay(2000, ct);
        }, ct);
        var request = new DumpRequest { QmpSocket = socketPath, Path = Path.Combine(directory, "vmcore") };

        var error = await Assert.ThrowsAsync<QmpGreetingException>(() => GuestMemoryDumper.DumpAsync(request, Progress(), ct));

        Assert.Contains("QMP greeting", error.Message);
        Assert.False(File.Exists(request.Path));
    }

    private Task<GuestMemoryDump> DumpAsync(DumpFormat format, string path, CancellationToken ct) =>
        GuestMemoryDumper.DumpAsync(new DumpRequest { QmpSocket = fixture.Guest.QmpSocketPath, Path = path, Format = format }, Progress(), ct);

    private static IProgress<OperationProgress> Progress() => new CallbackProgress<OperationProgress>(_ => { });

    internal static void AssertPrivateFile(string path)
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(TmpfsMount.GetEuid(), FileOwner(path));
    }

    private static uint FileOwner(string path)
    {
        var (_, stdout, _) = TestEnvironment.RunAsync("stat", ["-c", "%u", path]).GetAwaiter().GetResult();
        return uint.Parse(stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

}
