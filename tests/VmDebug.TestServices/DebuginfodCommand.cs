using System.Text.Json;

namespace VmDebug.TestServices;

/// <summary>`vmdebug-testhost debuginfod (-F|-U) DIR`: one JSON line describing the server, served until stdin closes.</summary>
internal static class DebuginfodCommand
{
    public static async Task<int> RunAsync(DebuginfodScan scan, string scanDirectory)
    {
        if (DebuginfodTestServer.MissingReason(scan) is { } missing)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { skipReason = missing }));
            return 0;
        }
        await using var server = await DebuginfodTestServer.StartAsync(scanDirectory, scan, TimeSpan.FromMinutes(10));
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            url = server.Url.AbsoluteUri,
            processId = server.ProcessId,
            rootDirectory = server.RootDirectory,
            scanSeconds = server.ScanTime.TotalSeconds,
        }));
        await Console.Out.FlushAsync();
        await Console.In.ReadToEndAsync();
        return 0;
    }
}
