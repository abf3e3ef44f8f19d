using VmDebug.Engine;
using VmDebug.Engine.Dump;
using VmDebug.Engine.Qmp;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Dump;

/// <summary>Dumps of a real panicked guest over QMP, read back by makedumpfile and crash.</summary>
public sealed class QmpDumpTests(PanickedGuestFixture fixture) : IClassFixture<PanickedGuestFixture>
{
    public static TheoryData<DumpFormat> Formats => [DumpFormat.Elf, DumpFormat.KdumpZlib, DumpFormat.KdumpLzo, DumpFormat.KdumpSnappy];

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task EveryFormatThisQemuWritesOpensInMakedumpfileAndCrash(DumpFormat format)
    {
        var ct = TestContext.Current.CancellationToken;
        var image = TestEnvironment.GuestWithDebugSymbols;
        IReadOnlyList<string> formats;
        await using (var qmp = await QmpClient.ConnectAsync(fixture.Guest.QmpSocketPath, null, ct))
        {
            formats = await qmp.QueryDumpGuestMemoryCapabilityAsync(null, ct);
        }

        // QEMU serves one QMP client at a time, so the capability check above must be closed before dumping.
        if (!formats.Contains(DumpFormats.QmpName(format)))
        {
            // Not a skip: the refusal must name what this QEMU can write, as the -Format values, and the way round it.
            using var scratch = new TempDirectory();
            var refused = await Assert.ThrowsAsync<VmDebugException>(() => DumpAsync(format, scratch.File("vmcore"), ct));
            Assert.Equal("DumpFormatUnsupported", refused.ErrorId);
            Assert.All(formats, f => Assert.Contains(DumpFormats.Parse(f).ToString(), refused.Message));
            Assert.Equal([RemedyTerm.Of(RemedyParameter.Format, DumpFormat.Elf), RemedyTerm.Of(RemedyCommand.ConvertVmcore), RemedyTerm.Of(RemedyParameter.Format, format)],
                refused.Remedy!.Terms);
            Assert.Empty(Directory.GetFileSystemEntries(scratch.Path));
            return;
        }

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
        Assert.Contains(dump.Repairs, r => r.Code == (format == DumpFormat.Elf ? "ElfHeaderRelaidOut" : "FlattenedReassembled"));
        AssertPrivateFile(path);
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));

        var dmesg = await PeerTools.MakedumpfileDmesgAsync(path);
        Assert.Contains($"vmdebug marker {PanickedGuestFixture.Markers}", dmesg);
        Assert.Contains("Kernel panic - not syncing", dmesg);

        if (format is DumpFormat.Elf or DumpFormat.KdumpZlib)
        {
            var log = await PeerTools.CrashLogAsync(image.Vmlinux!, path);
            Assert.Contains("Kernel panic - not syncing: sysrq triggered crash", log);
            Assert.Contains("vmdebug marker 1", log);
        }
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

        var error = await Assert.ThrowsAsync<VmDebugException>(() => GuestMemoryDumper.DumpAsync(request, Progress(), ct));
        Assert.Equal("DumpFileExists", error.ErrorId);

        await GuestMemoryDumper.DumpAsync(request with { Force = true }, Progress(), ct);
        Assert.Equal("precious", await File.ReadAllTextAsync(victim, ct));
        Assert.Null(new FileInfo(link).LinkTarget);
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

        Assert.Equal("DumpFailed", error.ErrorId);
        Assert.Equal(ErrorKind.WriteError, error.Kind);
        Assert.Empty(Directory.GetFileSystemEntries(small.Path));
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
