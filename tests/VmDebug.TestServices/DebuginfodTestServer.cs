using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace VmDebug.TestServices;

/// <summary>What a test debuginfod indexes: plain ELF files (-F) or Debian packages (-U, unpacked with bsdtar).</summary>
public enum DebuginfodScan
{
    ElfFiles,
    DebianPackages,
}

/// <summary>
/// A private debuginfod (elfutils, Debian package debuginfod) on a free loopback port, its sqlite database in a
/// temporary directory, indexing one folder once (-t 0: no rescans, -g 0: no grooming, -c 1: one scan thread, since the
/// machine is shared). <see cref="StartAsync"/> returns when the first scan has finished (from /metrics), so a
/// request right after finds what the folder holds. Stopped by its PID on disposal.
/// Used by the xunit DebuginfodFixture and, through `vmdebug-testhost debuginfod`, by the Pester suite.
/// </summary>
public sealed class DebuginfodTestServer : IAsyncDisposable
{
    private readonly Process _process;

    private DebuginfodTestServer(Process process, string rootDirectory, int port)
    {
        _process = process;
        RootDirectory = rootDirectory;
        Port = port;
    }

    public string RootDirectory { get; }
    public int Port { get; }
    public Uri Url => new($"http://127.0.0.1:{Port}/");
    public int ProcessId => _process.Id;
    /// <summary>From start until the first scan of the folder finished.</summary>
    public TimeSpan ScanTime { get; private set; }
    public string LogPath => Path.Combine(RootDirectory, "debuginfod.log");

    /// <summary>The reason debuginfod cannot run here (naming the apt packages), or null.</summary>
    public static string? MissingReason(DebuginfodScan scan)
    {
        if (LibvirtTestDaemon.FindTool("debuginfod") is null)
        {
            return "debuginfod is not installed: apt-get install debuginfod";
        }

        if (scan == DebuginfodScan.DebianPackages && LibvirtTestDaemon.FindTool("bsdtar") is null)
        {
            return "bsdtar is not installed (debuginfod -U unpacks .deb files with it): apt-get install libarchive-tools";
        }

        return null;
    }

    /// <summary>Starts debuginfod over <paramref name="scanDirectory"/> (symbolic links in it are followed).</summary>
    public static async Task<DebuginfodTestServer> StartAsync(string scanDirectory, DebuginfodScan scan, TimeSpan scanTimeout)
    {
        var binary = LibvirtTestDaemon.FindTool("debuginfod") ?? throw new InvalidOperationException(MissingReason(scan));
        var root = Directory.CreateTempSubdirectory("vmdebug-debuginfod-").FullName;
        var port = FreeLoopbackPort();
        var start = new ProcessStartInfo(binary)
        {
            WorkingDirectory = root,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (var arg in new[]
                 {
                     "-p", port.ToString(), "-d", Path.Combine(root, "index.sqlite"), "-t", "0", "-g", "0", "-c", "1",
                     // No prefetch: on a request debuginfod would otherwise unpack 64 more files of the archive too.
                     "-L", "--disable-source-scan", "--fdcache-prefetch=0",
                     scan == DebuginfodScan.DebianPackages ? "-U" : "-F", Path.GetFullPath(scanDirectory),
                 })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["TMPDIR"] = root; // its fdcache of unpacked files goes away with the folder
        var clock = Stopwatch.StartNew();
        var process = Process.Start(start)!;
        var log = File.CreateText(Path.Combine(root, "debuginfod.log"));
        log.AutoFlush = true;
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        process.Exited += (_, _) => { lock (log) { log.Dispose(); } };
        process.EnableRaisingEvents = true;
        var server = new DebuginfodTestServer(process, root, port);
        var files = Directory.EnumerateFiles(scanDirectory, "*", new EnumerationOptions { RecurseSubdirectories = true }).Count();
        try
        {
            await server.WaitForFirstScanAsync(files, scanTimeout);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        server.ScanTime = clock.Elapsed;
        return server;
    }

    /// <summary>Polls /metrics until every file of the folder is scanned and none is queued or being scanned.</summary>
    private async Task WaitForFirstScanAsync(int files, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"debuginfod exited with code {_process.ExitCode}: {LogTail()}");
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"debuginfod did not finish scanning within {timeout.TotalSeconds:0} s: {LogTail()}");
            }

            try
            {
                var metrics = await http.GetStringAsync(new Uri(Url, "metrics"));
                if (Metric(metrics, "thread_work_total{role=\"traverse\"}") >= 1
                    && ScannedFiles(metrics) >= files
                    && Metric(metrics, "thread_work_pending{role=\"scan\"}") == 0
                    && Metric(metrics, "thread_busy{role=\"scan\"}") == 0)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            await Task.Delay(200);
        }
    }

    private static long? Metric(string metrics, string name)
    {
        foreach (var line in metrics.Split('\n'))
        {
            if (line.StartsWith(name + " ", StringComparison.Ordinal) && long.TryParse(line.AsSpan(name.Length + 1), out var value))
            {
                return value;
            }
        }
        return name.StartsWith("thread_busy", StringComparison.Ordinal) ? 0 : null; // an idle role may be absent
    }

    /// <summary>scanned_files_total summed over its sources ("file", ".deb archive"…).</summary>
    private static long ScannedFiles(string metrics) => metrics.Split('\n')
        .Where(line => line.StartsWith("scanned_files_total{", StringComparison.Ordinal))
        .Sum(line => long.TryParse(line.AsSpan(line.LastIndexOf(' ') + 1), out var value) ? value : 0);

    public string LogTail()
    {
        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var lines = reader.ReadToEnd().Split('\n');
            return string.Join('\n', lines.TakeLast(15));
        }
        catch (IOException e)
        {
            return $"(no log: {e.Message})";
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try
        {
            Directory.Delete(RootDirectory, recursive: true);
        }
        catch (IOException)
        {
            // the OS temp cleaner takes the rest
        }
    }
}
