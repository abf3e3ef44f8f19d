using System.Diagnostics;
using System.Security.Cryptography;

namespace VmDebug.Tests.Support;

/// <summary>
/// A diskless, kernel-less QEMU (TCG, -S) with a QMP socket in its own temp dir; killed by PID on Dispose.
/// Enough for QMP tests; guests that boot use the lead's QemuGuestFixture.
/// </summary>
public sealed class BareQemuProcess : IDisposable
{
    public const string Binary = "qemu-system-x86_64";

    private readonly Process _process;
    private readonly System.Text.StringBuilder _stderr = new();

    private BareQemuProcess(Process process, string directory, string qmpSocketPath)
    {
        _process = process;
        Directory = directory;
        QmpSocketPath = qmpSocketPath;
    }

    public string Directory { get; }
    public string QmpSocketPath { get; }
    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Full path of qemu-system-x86_64 on PATH, or null.</summary>
    public static string? FindBinary() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, Binary))
            .FirstOrDefault(File.Exists);

    /// <summary>
    /// Skips the calling test when QEMU is absent; otherwise starts it and waits for the QMP socket. With
    /// <paramref name="randomMiB"/>, that much random data is loaded into guest RAM at 256 MiB (QEMU's generic
    /// loader): pages a dump must keep and cannot compress, where an empty guest's are all zero.
    /// </summary>
    public static BareQemuProcess StartOrSkip(int memoryMiB = 128, int randomMiB = 0)
    {
        var binary = FindBinary();
        if (binary is null)
        {
            Assert.Skip($"{Binary} is not installed: apt-get install qemu-system-x86");
        }

        var directory = System.IO.Directory.CreateTempSubdirectory("vmdebug-qemu-").FullName;
        var socket = Path.Combine(directory, "qmp.sock");
        var start = new ProcessStartInfo(binary)
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     "-machine", "q35", "-accel", "tcg", "-m", memoryMiB.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "-nographic", "-nodefaults", "-display", "none", "-S", "-qmp", $"unix:{socket},server=on,wait=off",
                 })
        {
            start.ArgumentList.Add(arg);
        }
        if (randomMiB > 0)
        {
            var blob = Path.Combine(directory, "random.bin");
            File.WriteAllBytes(blob, RandomNumberGenerator.GetBytes(randomMiB << 20));
            start.ArgumentList.Add("-device");
            start.ArgumentList.Add($"loader,file={blob},addr=0x10000000,force-raw=on");
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"{binary} did not start");
        var qemu = new BareQemuProcess(process, directory, socket);
        process.ErrorDataReceived += (_, e) => { lock (qemu._stderr) { qemu._stderr.AppendLine(e.Data); } };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();

        var clock = Stopwatch.StartNew();
        while (!VmDebug.Engine.Qmp.QmpSocketListening.IsListening(socket))
        {
            if (process.HasExited || clock.Elapsed > TimeSpan.FromSeconds(20))
            {
                var stderr = qemu.StandardError;
                qemu.Dispose();
                throw new InvalidOperationException($"QEMU did not listen on its QMP socket {socket}: {stderr}");
            }

            Thread.Sleep(20);
        }

        return qemu;
    }

    public string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Kills QEMU now (SIGKILL by PID), as a crash would.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.WaitForExit(5000);
    }

    public void Dispose()
    {
        try
        {
            Kill();
        }
        finally
        {
            _process.Dispose();
            if (System.IO.Directory.Exists(Directory))
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
        }
    }
}
