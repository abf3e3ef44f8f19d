using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using VmDebug.Engine;
using VmDebug.Engine.Libvirt;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Libvirt;

/// <summary>Against a private libvirtd (<see cref="LibvirtDaemonFixture"/>) running real QEMU under TCG.</summary>
[Collection(LibvirtDaemonCollection.Name)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class LibvirtDaemonTests(LibvirtDaemonFixture daemon) : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("vmdebug-libvirt-test-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private static void Log(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    [Fact]
    public void ConnectReportsTheDaemonsLibvirtAndQemuVersions()
    {
        daemon.SkipIfUnavailable();
        Log($"daemon start {daemon.DaemonStartTime.TotalMilliseconds:0} ms, first call {daemon.FirstCallTime.TotalMilliseconds:0} ms");
        using var connection = daemon.Connect();
        Assert.True(connection.IsAlive);
        Assert.True(LibvirtRuntime.EventLoopRunning);
        Assert.Equal(VersionFromTool("libvirtd", "--version"), connection.GetLibVersion());
        Assert.Equal(VersionFromTool("qemu-system-x86_64", "--version"), connection.GetVersion());
        Assert.Equal(connection.GetLibVersion(), LibvirtConnection.GetClientLibraryVersion());
    }

    [Fact]
    public void EventLoopStopsWhenTheLastConnectionCloses()
    {
        daemon.SkipIfUnavailable();
        var connection = daemon.Connect();
        Assert.True(LibvirtRuntime.EventLoopRunning);
        connection.Close();
        Assert.False(LibvirtRuntime.EventLoopRunning);
    }

    [Fact]
    public void ConnectionFailureCarriesLibvirtsErrorAndTheUri()
    {
        daemon.SkipIfUnavailable();
        var uri = $"qemu:///system?socket=/nonexistent/{Guid.NewGuid():N}/libvirt-sock";
        var e = Assert.Throws<LibvirtException>(() => LibvirtConnection.Open(uri));
        Assert.Equal(ErrorKind.ConnectionError, e.Kind);
        Assert.Equal(uri, e.Target);
        Assert.Contains("libvirt-sock", e.LibvirtMessage);
        Assert.False(LibvirtRuntime.EventLoopRunning, "a failed open must give back its event loop lease");
    }

    [Fact]
    public void ReadOnlyConnectionListsButCannotDefine()
    {
        daemon.SkipIfUnavailable();
        using var connection = LibvirtConnection.Open(daemon.ReadOnlyUri, readOnly: true);
        Assert.True(connection.IsReadOnly);
        Assert.NotNull(connection.ListAllDomains());
        var e = Assert.Throws<LibvirtException>(() => connection.DefineDomain(TestDomains.Minimal("vmdebug-ro", Guid.NewGuid())));
        Assert.Equal(ErrorKind.PermissionDenied, e.Kind);
        Assert.Equal(daemon.ReadOnlyUri, e.Target);
    }

    [Fact]
    public void QemuMonitorCommandPassesRawQmpThrough()
    {
        daemon.SkipIfUnavailable();
        using var connection = daemon.Connect();
        using var guest = RunningGuest.Start(connection, "qmp", 256);
        var reply = guest.Domain.QemuMonitorCommand("""{"execute":"query-status"}""");
        Assert.Contains("\"status\":\"running\"", reply);
        // QMP's own errors come back inside the reply, as QEMU sent them.
        var error = guest.Domain.QemuMonitorCommand("""{"execute":"vmdebug-no-such-command"}""");
        Assert.Contains("CommandNotFound", error);
        Assert.Contains("custom-monitor", File.ReadAllText(Path.Combine(daemon.RootDirectory, "log", "qemu", guest.Domain.Name + ".log")));
    }

    [Fact]
    public void UnknownDomainIsObjectNotFoundNamingIt()
    {
        daemon.SkipIfUnavailable();
        using var connection = daemon.Connect();
        var e = Assert.Throws<LibvirtException>(() => connection.LookupDomain("vmdebug-no-such-domain"));
        Assert.Equal("LibvirtDomainNotFound", e.ErrorId);
        Assert.Equal(ErrorKind.ObjectNotFound, e.Kind);
        Assert.Equal("vmdebug-no-such-domain", e.Target);
        Assert.Equal((int)LibvirtErrorCode.NoDomain, e.LibvirtCode);
        Assert.Contains("vmdebug-no-such-domain", e.Message);
    }

    [Fact]
    public void DefineLookupStartDestroyUndefine()
    {
        daemon.SkipIfUnavailable();
        using var connection = daemon.Connect();
        var name = TestDomains.UniqueName("life");
        var uuid = Guid.NewGuid();
        var clock = Stopwatch.StartNew();
        using (var defined = connection.DefineDomain(TestDomains.Minimal(name, uuid)))
        {
            Assert.Equal(name, defined.Name);
        }

        Log($"define {clock.ElapsedMilliseconds} ms");
        try
        {
            using var domain = connection.LookupDomain(name);
            Assert.Equal(uuid, domain.Uuid);
            Assert.False(domain.IsActive);
            Assert.Null(domain.Id);
            Assert.Equal(LibvirtDomainState.Shutoff, domain.GetState().State);
            Assert.Contains(domain.Name, connection.ListAllDomains(LibvirtListDomainsFlags.Inactive).Select(d => { using (d) { return d.Name; } }));

            var inactiveXml = domain.GetXmlDesc(LibvirtDomainXmlFlags.Inactive);
            Assert.Contains($"<name>{name}</name>", inactiveXml);
            Assert.Contains("<memory unit='KiB'>262144</memory>", inactiveXml);

            clock.Restart();
            domain.Create();
            Log($"start {clock.ElapsedMilliseconds} ms");
            Assert.True(domain.IsActive);
            Assert.NotNull(domain.Id);
            Assert.Equal(LibvirtDomainState.Running, domain.GetState().State);
            Assert.Contains("<domain type='qemu' id=", domain.GetXmlDesc());
            Assert.Contains(domain.Name, connection.ListAllDomains(LibvirtListDomainsFlags.Active).Select(d => { using (d) { return d.Name; } }));

            domain.Destroy();
            Assert.Equal(LibvirtDomainState.Shutoff, domain.GetState().State);
            var again = Assert.Throws<LibvirtException>(domain.Destroy);
            Assert.Equal(ErrorKind.InvalidOperation, again.Kind);
            Assert.Equal(name, again.Target);
        }
        finally
        {
            using var domain = connection.LookupDomain(name);
            domain.Undefine();
        }
        Assert.Equal(ErrorKind.ObjectNotFound, Assert.Throws<LibvirtException>(() => connection.LookupDomain(name)).Kind);
    }

    [Fact]
    public void RawMemoryDumpIsAnElfCore()
    {
        daemon.SkipIfUnavailable();
        using var connection = daemon.Connect();
        using var guest = RunningGuest.Start(connection, "raw", 256);
        var path = Path.Combine(_scratch, "raw.elf");
        var clock = Stopwatch.StartNew();
        guest.Domain.CoreDumpWithFormat(path, LibvirtDumpFormat.Raw, LibvirtDumpFlags.MemoryOnly);
        var size = new FileInfo(path).Length;
        Log($"RAW dump of 256 MiB: {clock.ElapsedMilliseconds} ms, {size} bytes, mode {File.GetUnixFileMode(path)}");

        var header = new byte[18];
        using (var f = File.OpenRead(path))
        {
            f.ReadExactly(header);
        }

        Assert.Equal(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F' }, header[..4]);
        Assert.Equal(4, BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(16))); // ET_CORE
        Assert.InRange(size, 256L << 20, (256L << 20) + (16 << 20));
        // libvirt (not QEMU) creates the file: root, 0600. QEMU's own file: dumps are 0400.
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        var readelf = Run("readelf", "-h", path);
        Assert.Matches(@"Type:\s+CORE", readelf);
        Assert.Equal(LibvirtJobType.None, guest.Domain.GetJobInfo().Type);
    }

    [Fact]
    public void KdumpZlibDumpIsAFlattenedStreamMakedumpfileReassembles()
    {
        daemon.SkipIfUnavailable();
        using var connection = daemon.Connect();
        using var guest = RunningGuest.Start(connection, "kdump", 256);
        var path = Path.Combine(_scratch, "zlib.flat");
        var clock = Stopwatch.StartNew();
        guest.Domain.CoreDumpWithFormat(path, LibvirtDumpFormat.KdumpZlib, LibvirtDumpFlags.MemoryOnly);
        Log($"KDUMP_ZLIB dump of 256 MiB: {clock.ElapsedMilliseconds} ms, {new FileInfo(path).Length} bytes");

        var head = new byte[13];
        using (var f = File.OpenRead(path))
        {
            f.ReadExactly(head);
        }

        Assert.Equal("makedumpfile\0"u8.ToArray(), head);
        TestEnvironment.RequireTool("makedumpfile", "makedumpfile");
        var reassembled = Path.Combine(_scratch, "zlib.kdump");
        RunWithStdin("makedumpfile", path, "-R", reassembled);
        var sig = new byte[8];
        using (var f = File.OpenRead(reassembled))
        {
            f.ReadExactly(sig);
        }

        Assert.Equal("KDUMP   ", Encoding.ASCII.GetString(sig));
    }

    [Fact]
    public void FormatsDebiansQemuLacksGiveAClearUnsupportedError()
    {
        daemon.SkipIfUnavailable();
        using var connection = daemon.Connect();
        using var guest = RunningGuest.Start(connection, "lzo", 256);
        var path = Path.Combine(_scratch, "lzo.flat");
        var e = Assert.Throws<LibvirtException>(() =>
            guest.Domain.CoreDumpWithFormat(path, LibvirtDumpFormat.KdumpLzo, LibvirtDumpFlags.MemoryOnly));
        Log(e.Message);
        // libvirt 9.0 reports this as VIR_ERR_INVALID_ARG ("unsupported dumpformat ... for this QEMU binary").
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.StartsWith("Libvirt", e.ErrorId);
        Assert.Equal(guest.Domain.Name, e.Target);
        Assert.Contains("kdump-lzo", e.Message);
        Assert.True(guest.Domain.IsActive);
    }

    [Fact]
    public async Task DumpAsyncReportsProgressFromJobInfoAndShowsAsAnActiveJob()
    {
        daemon.SkipIfUnavailable();
        using var connection = daemon.Connect();
        using var guest = RunningGuest.Start(connection, "progress", 2048);
        var path = Path.Combine(_scratch, "big.elf");
        var reports = new List<OperationProgress>();
        var progress = new CallbackProgress<OperationProgress>(report => { lock (reports) { reports.Add(report); } });
        var activeJobs = new List<LibvirtActiveJob>();

        var dump = LibvirtDumpOperation.DumpAsync(daemon.Uri, guest.Domain.Name, path, LibvirtDumpFormat.Raw, progress,
            TestContext.Current.CancellationToken);
        using (var observer = daemon.Connect())
        {
            while (!dump.IsCompleted && activeJobs.Count == 0)
            {
                activeJobs.AddRange(observer.GetActiveJobs());
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }
        }
        var result = await dump;
        Log($"RAW dump of 2 GiB: {result.Duration.TotalMilliseconds:0} ms, {result.SizeBytes} bytes, {reports.Count} reports");
        foreach (var r in reports)
        {
            Log($"  {r.Status} {r.PercentComplete}% {r.BytesDone}/{r.BytesTotal}");
        }

        var job = Assert.Single(activeJobs);
        Assert.Equal(guest.Domain.Name, job.Domain);
        Assert.NotEqual(LibvirtJobType.None, job.JobType);
        Assert.Contains(reports, r => r.BytesTotal > 0 && r.PercentComplete is > 0 and < 100);
        var totals = reports.Where(r => r.BytesTotal > 0 && !r.Completed).Select(r => r.BytesTotal).Distinct().ToList();
        // query-dump's total is all guest RAM blocks: the 2 GiB plus a few small ones (256 KiB seen with QEMU 7.2).
        Assert.InRange(Assert.Single(totals), 2048L << 20, (2048L + 16) << 20);
        Assert.True(reports[^1].Completed);
        Assert.Equal(new FileInfo(path).Length, result.SizeBytes);
        Assert.Equal(totals[0], result.GuestRamBytes);
        Assert.Empty(connection.GetActiveJobs());
    }

    [Fact]
    public async Task LifecycleEventsArriveForStartAndDestroy()
    {
        daemon.SkipIfUnavailable();
        using var connection = daemon.Connect();
        var name = TestDomains.UniqueName("events");
        using var domain = connection.DefineDomain(TestDomains.Minimal(name, Guid.NewGuid()));
        try
        {
            using var events = connection.SubscribeLifecycleEvents(domain);
            domain.Create();
            // libvirt also sends Resumed/Unpaused around a start; only the order of start vs stop matters here.
            var started = await WaitForEventAsync(events, e => e.Event == LibvirtLifecycleEventType.Started);
            Assert.Equal((name, "Booted"), (started.Domain, started.DetailName));
            Assert.Equal(domain.Uuid, started.Uuid);
            domain.Destroy();
            var stopped = await WaitForEventAsync(events, e => e.Event == LibvirtLifecycleEventType.Stopped);
            Assert.Equal("Destroyed", stopped.DetailName);
            Assert.False(stopped.IsPanic);
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

    [Fact]
    public async Task GuestPanicArrivesAsCrashedPanickedAndTheDumpCarriesVmcoreinfo()
    {
        daemon.SkipIfUnavailable();
        var guest = TestEnvironment.Guest;
        using var connection = daemon.Connect();
        var name = TestDomains.UniqueName("panic");
        using var domain = connection.DefineDomain(TestDomains.PanickingGuest(name, guest, panicAfterSeconds: 1));
        try
        {
            using var events = connection.SubscribeLifecycleEvents(domain);
            var clock = Stopwatch.StartNew();
            domain.Create();
            var crashed = await WaitForEventAsync(events, e => e.Event == LibvirtLifecycleEventType.Crashed, TimeSpan.FromSeconds(120));
            Log($"panic event {clock.ElapsedMilliseconds} ms after start");
            Assert.True(crashed.IsPanic);
            Assert.Equal("Panicked", crashed.DetailName);
            Assert.Equal(LibvirtDomainState.Crashed, domain.GetState().State); // preserved, not restarted or destroyed

            var path = Path.Combine(_scratch, "panicked.elf");
            var result = await LibvirtDumpOperation.DumpAsync(domain, path, LibvirtDumpFormat.Raw, null, TestContext.Current.CancellationToken);
            Log($"RAW dump of the panicked 512 MiB guest: {result.Duration.TotalMilliseconds:0} ms");
            var head = new byte[64 * 1024];
            using (var f = File.OpenRead(path))
            {
                f.ReadExactly(head);
            }

            Assert.Contains($"OSRELEASE={guest.Release}", Encoding.ASCII.GetString(head));
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

    [Fact]
    public async Task CancellingADumpEndsInOperationCanceledAndLeavesTheGuestRunning()
    {
        daemon.SkipIfUnavailable();
        using var connection = daemon.Connect();
        using var guest = RunningGuest.Start(connection, "cancel", 1024);
        var path = Path.Combine(_scratch, "cancelled.elf");
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var statuses = new List<OperationProgress>();
        var progress = new CallbackProgress<OperationProgress>(p =>
        {
            lock (statuses)
            {
                statuses.Add(p);
            }

            if (p.BytesDone > 0)
            {
                cancel.Cancel();
            }
        });
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            LibvirtDumpOperation.DumpAsync(guest.Domain, path, LibvirtDumpFormat.Raw, progress, cancel.Token));
        Log($"cancelled dump returned after {clock.ElapsedMilliseconds} ms");
        foreach (var s in statuses.Select(s => s.Status).Distinct())
        {
            Log($"  {s}");
        }

        Assert.Contains(statuses, s => s.Status.StartsWith("Abort", StringComparison.Ordinal) || s.Status.StartsWith("Cannot abort", StringComparison.Ordinal));
        Assert.Equal(LibvirtDomainState.Running, guest.Domain.GetState().State);
        Assert.Equal(LibvirtJobType.None, guest.Domain.GetJobInfo().Type);
    }

    [Fact]
    public async Task DisposingASubscriptionCompletesItsChannel()
    {
        daemon.SkipIfUnavailable();
        using var connection = daemon.Connect();
        var events = connection.SubscribeLifecycleEvents();
        events.Dispose();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        Assert.False(await events.Events.WaitToReadAsync(timeout.Token));
    }

    private static async Task<DomainLifecycleEvent> WaitForEventAsync(LibvirtLifecycleSubscription events,
        Func<DomainLifecycleEvent, bool> wanted, TimeSpan? within = null)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(within ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var e = await events.Events.ReadAsync(timeout.Token);
            Log($"event {e}");
            if (wanted(e))
            {
                return e;
            }
        }
    }

    private static Version VersionFromTool(string tool, string arg)
    {
        var match = VersionPattern().Match(Run(tool, arg));
        Assert.True(match.Success, $"no version in {tool} {arg}");
        return Version.Parse(match.Value);
    }

    [GeneratedRegex(@"\d+\.\d+\.\d+")]
    private static partial Regex VersionPattern();

    private static string Run(string tool, params string[] args) => RunWithStdin(tool, null, args);

    private static string RunWithStdin(string tool, string? stdinFile, params string[] args)
    {
        var info = new ProcessStartInfo(TestEnvironment.FindTool(tool) ?? tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdinFile is not null,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var p = Process.Start(info)!;
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdinFile is not null)
        {
            using (var input = File.OpenRead(stdinFile))
            {
                input.CopyTo(p.StandardInput.BaseStream);
            }

            p.StandardInput.Close();
        }
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{tool} {string.Join(' ', args)} exited {p.ExitCode}: {stderr.Result}");
        return stdout;
    }

}
