using System.Text.Json.Nodes;
using VmDebug.Engine.Guest;
using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.KernelLog;
using VmDebug.Engine.Libvirt;
using VmDebug.Engine.Qmp;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.KernelLog;

/// <summary>
/// Live reads of a running guest through QMP (pmemsave into VmDebug's pipe) and libvirt (virDomainMemoryPeek): the
/// guest keeps running throughout, and the records equal those of a dump taken right after.
/// </summary>
public sealed class LiveKernelLogTests : IDisposable
{
    internal const int Markers = 8;
    private readonly string _dir = TempFiles.NewDirectory();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task QmpReadOfARunningGuestLeavesItRunningAndMatchesADumpTakenRightAfter()
    {
        await using var guest = await QemuGuest.StartAsync(TestEnvironment.Guest, new GuestLaunchOptions { MemoryMiB = 256, Markers = Markers }, cancellationToken: Ct);
        // QEMU serves one QMP client at a time: the test connects between reads, never during one.
        async Task<string> StatusAsync()
        {
            await using var qmp = await QmpClient.ConnectAsync(guest.QmpSocketPath, null, Ct);
            return (await qmp.QueryStatusAsync(cancellationToken: Ct)).Status;
        }
        var target = new GuestKernelTarget { QmpSocket = guest.QmpSocketPath };
        var live = await WaitForMarkersAsync(() => GuestKernelLogReader.ReadAsync(target, Ct), async () => Assert.Equal("running", await StatusAsync()));
        Assert.All(live.ToKmsgRecords(), r => Assert.Equal(guest.QmpSocketPath, r.Guest));

        var dump = Path.Combine(_dir, "after.elf");
        await using (var qmp = await QmpClient.ConnectAsync(guest.QmpSocketPath, null, Ct))
        {
            await qmp.ExecuteAsync("dump-guest-memory", new JsonObject { ["paging"] = false, ["protocol"] = "file:" + dump, ["format"] = "elf" },
                TimeSpan.FromMinutes(3), Ct);
        }
        Assert.Equal("running", await StatusAsync());
        AssertLiveIsPrefixOfDump(live, await GuestKernelLogReader.ReadAsync(new GuestKernelTarget { Path = dump }, Ct));

        // -Pause stops the guest for the read and resumes it.
        var paused = await GuestKernelLogReader.ReadAsync(target with { Pause = true }, Ct);
        Assert.Equal("running", await StatusAsync());
        Assert.True(paused.Entries.Count >= live.Entries.Count);
    }

    /// <summary>Reads live until the last marker is in the log (the guest is booting), checking it keeps running between reads.</summary>
    internal static async Task<GuestKernelLog> WaitForMarkersAsync(Func<Task<GuestKernelLog>> read, Func<Task> assertRunning)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            try
            {
                var log = await read();
                await assertRunning();
                if (log.ToKmsgRecords().Any(r => r.Message == $"vmdebug marker {Markers}"))
                {
                    return log;
                }
            }
            catch (GuestKernelException e) when (e.ErrorId == GuestKernelException.NoVmcoreInfo && DateTime.UtcNow < deadline)
            {
                // The kernel has not written its VMCOREINFO yet.
            }
            Assert.True(DateTime.UtcNow < deadline, "the guest's markers never appeared in its live log");
            await Task.Delay(1000, Ct);
        }
    }

    /// <summary>Every live record is in the later dump, same sequence, time, level and text; the dump may have newer ones.</summary>
    internal static void AssertLiveIsPrefixOfDump(GuestKernelLog live, GuestKernelLog dump)
    {
        var liveRecords = live.ToKmsgRecords();
        var dumped = dump.ToKmsgRecords().ToDictionary(r => r.Sequence);
        Assert.True(liveRecords.Count > Markers);
        foreach (var record in liveRecords)
        {
            Assert.True(dumped.TryGetValue(record.Sequence, out var same), $"record {record.Sequence} is not in the dump");
            Assert.Equal((record.SinceBoot, record.Level, record.Message), (same.SinceBoot, same.Level, same.Message));
        }
    }
}

/// <summary>The libvirt half: a domain of the private test daemon read with virDomainMemoryPeek.</summary>
[Collection(LibvirtDaemonCollection.Name)]
public sealed class LiveLibvirtKernelLogTests(LibvirtDaemonFixture daemon) : IDisposable
{
    private readonly string _dir = TempFiles.NewDirectory();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task LibvirtReadOfARunningDomainLeavesItRunningAndMatchesADumpTakenRightAfter()
    {
        daemon.SkipIfUnavailable();
        var name = TestDomains.UniqueName("klog");
        using var connection = daemon.Connect();
        using var domain = connection.DefineDomain(TestDomains.KmsgGuest(name, TestEnvironment.Guest, "", LiveKernelLogTests.Markers));
        try
        {
            domain.Create();
            var target = new GuestKernelTarget { Domain = name, ConnectionUri = daemon.Uri };
            var live = await LiveKernelLogTests.WaitForMarkersAsync(() => GuestKernelLogReader.ReadAsync(target, Ct),
                () => { Assert.Equal(LibvirtDomainState.Running, domain.GetState().State); return Task.CompletedTask; });
            Assert.Equal(LibvirtDomainState.Running, domain.GetState().State);
            Assert.All(live.ToKmsgRecords(), r => Assert.Equal(name, r.Guest));

            var dump = Path.Combine(_dir, "domain.elf");
            domain.CoreDumpWithFormat(dump, LibvirtDumpFormat.Raw, LibvirtDumpFlags.MemoryOnly | LibvirtDumpFlags.Live);
            Assert.Equal(LibvirtDomainState.Running, domain.GetState().State);
            LiveKernelLogTests.AssertLiveIsPrefixOfDump(live, await GuestKernelLogReader.ReadAsync(new GuestKernelTarget { Path = dump }, Ct));
        }
        finally
        {
            if (domain.IsActive)
            {
                domain.Destroy();
            }
            domain.Undefine();
        }
    }
}
