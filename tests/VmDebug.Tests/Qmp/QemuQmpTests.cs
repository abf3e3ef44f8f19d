using System.Diagnostics;
using System.Text.RegularExpressions;
using VmDebug.Engine.Qmp;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Qmp;

/// <summary>The client against a real QEMU (TCG, -S, no kernel): what QEMU itself says and does.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class QemuQmpTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Greeting_AndQueryVersion_MatchTheBinarysOwnVersion()
    {
        using var qemu = BareQemuProcess.StartOrSkip();
        await using var client = await QmpClient.ConnectAsync(qemu.QmpSocketPath, null, Ct);

        // Independent source: the binary's --version banner, e.g. "QEMU emulator version 7.2.22 (Debian ...)".
        var banner = await RunAsync(BareQemuProcess.FindBinary()!, "--version");
        var match = Regex.Match(banner, @"version (\d+)\.(\d+)\.(\d+)");
        Assert.True(match.Success, banner);
        var version = await client.QueryVersionAsync(null, Ct);
        Assert.Equal(int.Parse(match.Groups[1].Value), version.Major);
        Assert.Equal(int.Parse(match.Groups[2].Value), version.Minor);
        Assert.Equal(int.Parse(match.Groups[3].Value), version.Micro);
        Assert.Equal(client.Greeting.Version, version);
        Assert.Contains("oob", client.Greeting.Capabilities);
        Assert.False(client.OobEnabled);
    }

    [Fact]
    public async Task QueryStatus_FollowsContAndStop_AndTheirEventsArrive()
    {
        using var qemu = BareQemuProcess.StartOrSkip();
        await using var client = await QmpClient.ConnectAsync(qemu.QmpSocketPath, null, Ct);

        Assert.Equal(new QmpStatus(false, "prelaunch"), await client.QueryStatusAsync(null, Ct));
        await client.ContAsync(null, Ct);
        Assert.Equal(new QmpStatus(true, "running"), await client.QueryStatusAsync(null, Ct));
        await client.StopAsync(null, Ct);
        Assert.Equal(new QmpStatus(false, "paused"), await client.QueryStatusAsync(null, Ct));

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        wait.CancelAfter(TimeSpan.FromSeconds(10));
        var resume = await client.Events.ReadAsync(wait.Token);
        var stop = await client.Events.ReadAsync(wait.Token);
        Assert.Equal(("RESUME", "STOP"), (resume.Name, stop.Name));
        Assert.InRange(stop.Timestamp, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.True(stop.Timestamp >= resume.Timestamp);
    }

    [Fact]
    public async Task UnknownCommand_IsACommandNotFoundError()
    {
        using var qemu = BareQemuProcess.StartOrSkip();
        await using var client = await QmpClient.ConnectAsync(qemu.QmpSocketPath, null, Ct);

        var error = await Assert.ThrowsAsync<QmpCommandException>(() => client.ExecuteAsync("vmdebug-no-such-command", null, null, Ct));
        Assert.Equal("CommandNotFound", error.ErrorClass);
        Assert.Equal("vmdebug-no-such-command", error.Command);
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task DumpCapability_ListsElf()
    {
        using var qemu = BareQemuProcess.StartOrSkip();
        await using var client = await QmpClient.ConnectAsync(qemu.QmpSocketPath, null, Ct);

        var formats = await client.QueryDumpGuestMemoryCapabilityAsync(null, Ct);
        Assert.Contains("elf", formats);
    }

    [Fact]
    public async Task GetFd_PassesARealDescriptor_ThatCloseFdThenReleases()
    {
        using var qemu = BareQemuProcess.StartOrSkip();
        await using var client = await QmpClient.ConnectAsync(qemu.QmpSocketPath, null, Ct);
        var path = Path.Combine(qemu.Directory, "passed");
        using var file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite);

        // Without a descriptor in the same message QEMU answers "No file descriptor supplied via SCM_RIGHTS".
        var withoutFd = await Assert.ThrowsAsync<QmpCommandException>(
            () => client.ExecuteAsync("getfd", new() { ["fdname"] = "nofd" }, null, Ct));
        Assert.Contains("SCM_RIGHTS", withoutFd.Description);

        await client.GetFdAsync("vmdebug-test", file, null, Ct);
        Assert.True(QemuHoldsFile(qemu.Pid, path), "QEMU should hold a descriptor of the passed file");
        await client.CloseFdAsync("vmdebug-test", null, Ct);
        Assert.False(QemuHoldsFile(qemu.Pid, path), "closefd should close QEMU's copy");
        var again = await Assert.ThrowsAsync<QmpCommandException>(() => client.CloseFdAsync("vmdebug-test", null, Ct));
        Assert.Equal("GenericError", again.ErrorClass);
    }

    [Fact]
    public async Task DumpToAPassedFd_WritesElfIntoTheFileWeCreated_KeepingItsMode0600AndOwner()
    {
        using var qemu = BareQemuProcess.StartOrSkip();
        await using var client = await QmpClient.ConnectAsync(qemu.QmpSocketPath, null, Ct);
        var path = Path.Combine(qemu.Directory, "guest.elf");
        using (var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            await client.GetFdAsync("dumpfd", stream.SafeFileHandle, null, Ct);
        }

        var clock = Stopwatch.StartNew();
        await client.DumpGuestMemoryAsync(DumpGuestMemoryRequest.ToFd("dumpfd"), TimeSpan.FromMinutes(2), Ct);
        TestContext.Current.TestOutputHelper?.WriteLine($"128 MiB ELF dump through a passed fd: {clock.ElapsedMilliseconds} ms");

        var state = await client.QueryDumpAsync(null, Ct);
        Assert.Equal(QmpDumpState.Completed, state.Status);
        Assert.Equal(state.Total, state.Completed);

        var head = new byte[4];
        using (var dump = File.OpenRead(path))
        {
            await dump.ReadExactlyAsync(head, Ct);
        }

        Assert.Equal("\u007fELF"u8.ToArray(), head);
        Assert.True(new FileInfo(path).Length >= 128L << 20, "the dump should hold all 128 MiB of guest RAM");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal((await RunAsync("id", "-u")).Trim(), (await RunAsync("stat", "-c", "%u", path)).Trim());
        Assert.False(QemuHoldsFile(qemu.Pid, path), "QEMU should close the fd once the dump is written");
    }

    [Fact]
    public async Task QemuKilled_FailsAPendingDumpAndLaterCalls_AndCompletesEvents()
    {
        using var qemu = BareQemuProcess.StartOrSkip(memoryMiB: 1024);
        await using var client = await QmpClient.ConnectAsync(qemu.QmpSocketPath, null, Ct);
        var path = Path.Combine(qemu.Directory, "big.elf");

        // A 1 GiB ELF dump takes about 2 s here (128 MiB: ~0.3 s), so it is still running when QEMU dies.
        var dump = client.DumpGuestMemoryAsync(DumpGuestMemoryRequest.ToFile(path), TimeSpan.FromMinutes(2), Ct);
        await Task.Delay(200, Ct);
        Assert.False(dump.IsCompleted, "the dump finished before QEMU was killed; the test needs a longer dump");
        var clock = Stopwatch.StartNew();
        qemu.Kill();
        var error = await Assert.ThrowsAsync<QmpDisconnectedException>(() => dump);
        TestContext.Current.TestOutputHelper?.WriteLine($"SIGKILL to QEMU → pending call failed after {clock.Elapsed.TotalMilliseconds:0.0} ms");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"pending call failed {clock.Elapsed} after QEMU died");
        Assert.Contains("dump-guest-memory", error.Message);

        await client.Events.Completion.WaitAsync(TimeSpan.FromSeconds(1), Ct);
        await Assert.ThrowsAsync<QmpDisconnectedException>(() => client.QueryStatusAsync(null, Ct));
    }

    private static bool QemuHoldsFile(int pid, string path)
    {
        foreach (var link in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
        {
            try
            {
                if (new FileInfo(link).LinkTarget == path)
                {
                    return true;
                }
            }
            catch (IOException)
            {
                // The descriptor closed while we looked.
            }
        }

        return false;
    }

    private static async Task<string> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        return output;
    }
}
