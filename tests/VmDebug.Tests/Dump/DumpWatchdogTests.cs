using System.Text.Json.Nodes;
using VmDebug.Engine;
using VmDebug.Engine.Dump;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Dump;

/// <summary>
/// A fault real QEMU will not produce on demand, from a scripted QMP peer: a failure whose error text carries a
/// terminal escape sequence. (Stalls and timeouts of the streaming dump: Dump/StreamingDumpFaultTests.)
/// </summary>
public sealed class DumpWatchdogTests
{
    private static readonly IProgress<OperationProgress> NoProgress = new CallbackProgress<OperationProgress>(_ => { });

    [Fact]
    public async Task QemusErrorTextIsEscapedBeforeDisplay()
    {
        await using var qemu = FakeQmpServer.Start();
        using var scratch = new TempDirectory();
        var serving = ServeAsync(qemu, _ => -1);
        var error = await Assert.ThrowsAsync<VmDebugException>(() => GuestMemoryDumper.DumpAsync(new DumpRequest
        {
            QmpSocket = qemu.SocketPath,
            Path = scratch.File("vmcore"),
        }, NoProgress, TestContext.Current.CancellationToken));
        Assert.Equal("DumpFailed", error.ErrorId);
        Assert.DoesNotContain('\u001b', error.Message);
        Assert.Contains(@"\x1b[2J", error.Message);
        qemu.CloseConnection();
        await serving;
    }

    /// <summary>
    /// Plays QEMU 7.2 for one dump: capabilities, query-status, getfd, a detached dump-guest-memory, then query-dump with the
    /// completed count <paramref name="next"/> gives (-1: the dump fails, with an escape sequence in DUMP_COMPLETED's error).
    /// </summary>
    private static async Task ServeAsync(FakeQmpServer qemu, Func<long, long> next)
    {
        await qemu.HandshakeAsync();
        long completed = 4096;
        var dumping = false;
        while (true)
        {
            JsonObject request;
            try
            {
                request = await qemu.ReceiveAsync(TimeSpan.FromSeconds(60));
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or Xunit.Sdk.XunitException or OperationCanceledException)
            {
                return; // the client went away
            }
            var id = FakeQmpServer.Id(request);
            var reply = (string?)request["execute"] switch
            {
                "query-dump-guest-memory-capability" => """{"return": {"formats": ["elf", "kdump-zlib", "win-dmp"]}}""",
                "query-status" => """{"return": {"status": "running", "running": true, "singlestep": false}}""",
                "query-dump" when !dumping => """{"return": {"status": "none", "completed": 0, "total": 0}}""",
                "query-dump" => QueryDump(ref completed, next),
                "dump-guest-memory" => DumpStarted(ref dumping),
                _ => """{"return": {}}""",
            };
            if (reply.Contains("\"failed\"", StringComparison.Ordinal))
            {
                await qemu.SendAsync("""{"event": "DUMP_COMPLETED", "data": {"result": {"status": "failed", "completed": 0, "total": 1073741824}, "error": "disk on fire \u001b[2J"}, "timestamp": {"seconds": 1, "microseconds": 0}}""");
            }
            await qemu.SendAsync(reply.Insert(reply.LastIndexOf('}'), $", \"id\": \"{id}\""));
        }
    }

    private static string DumpStarted(ref bool dumping)
    {
        dumping = true;
        return """{"return": {}}""";
    }

    private static string QueryDump(ref long completed, Func<long, long> next)
    {
        completed = next(completed);
        return completed < 0
            ? """{"return": {"status": "failed", "completed": 0, "total": 1073741824}}"""
            : "{\"return\": {\"status\": \"active\", \"completed\": " + completed + ", \"total\": 1073741824}}";
    }
}
