using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace VmDebug.Tests.Support;

/// <summary>
/// Real QEMU output: a q35 guest held at reset (-S, nothing boots) dumped once as ELF and once as kdump-zlib
/// through QMP. Such dumps carry no VMCOREINFO but have QEMU's real layouts (ELF phdrs at 192, flattened stream).
/// </summary>
public sealed class QemuDumpFixture : IDisposable
{
    public QemuDumpFixture()
    {
        Directory = TempFiles.NewDirectory();
        var qemu = Tools.Find("qemu-system-x86_64");
        if (qemu is null)
        {
            SkipReason = "qemu-system-x86_64 is not installed (apt package qemu-system-x86)";
            return;
        }
        ElfPath = Path.Combine(Directory, "guest.elf");
        KdumpPath = Path.Combine(Directory, "guest.kdump-zlib");
        var socket = Path.Combine(Directory, "qmp.sock");
        using var process = Process.Start(new ProcessStartInfo(qemu,
            ["-machine", "q35", "-accel", "tcg", "-m", "256", "-display", "none", "-nodefaults", "-S", "-qmp", $"unix:{socket},server=on,wait=off"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!VmDebug.Engine.Qmp.QmpSocketListening.IsListening(socket))
            {
                if (process.HasExited || DateTime.UtcNow > deadline)
                {
                    throw new InvalidOperationException($"QEMU did not listen on its QMP socket: {process.StandardError.ReadToEnd()}");
                }
                Thread.Sleep(50);
            }
            using var qmp = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            qmp.Connect(new UnixDomainSocketEndPoint(socket));
            using var stream = new NetworkStream(qmp);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
            reader.ReadLine(); // greeting
            Execute(reader, writer, """{"execute":"qmp_capabilities"}""");
            Execute(reader, writer, DumpCommand(ElfPath, "elf"));
            Execute(reader, writer, DumpCommand(KdumpPath, "kdump-zlib"));
        }
        finally
        {
            process.Kill();
            process.WaitForExit();
        }
    }

    public string Directory { get; }
    public string? SkipReason { get; }
    public string ElfPath { get; } = "";
    public string KdumpPath { get; } = "";

    public void SkipIfUnavailable()
    {
        if (SkipReason is not null)
        {
            Assert.Skip(SkipReason);
        }
    }

    private static string DumpCommand(string path, string format) => new JsonObject
    {
        ["execute"] = "dump-guest-memory",
        ["arguments"] = new JsonObject { ["paging"] = false, ["protocol"] = "file:" + path, ["format"] = format },
    }.ToJsonString();

    private static void Execute(StreamReader reader, StreamWriter writer, string command)
    {
        writer.WriteLine(command);
        while (true)
        {
            var line = reader.ReadLine() ?? throw new InvalidOperationException("QMP closed the connection");
            var reply = JsonNode.Parse(line)!.AsObject();
            if (reply.ContainsKey("error"))
            {
                throw new InvalidOperationException($"QMP {command} failed: {line}");
            }
            if (reply.ContainsKey("return"))
            {
                return;
            }
        }
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

internal static class Tools
{
    public static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    public static string Require(string name, string package) =>
        Find(name) ?? throw SkipException(name, package);

    private static Exception SkipException(string name, string package)
    {
        Assert.Skip($"{name} is not installed (apt package {package})");
        return new InvalidOperationException("unreachable");
    }

    /// <summary>Runs a tool to completion; stdin from <paramref name="stdinPath"/> when given.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string tool, IEnumerable<string> arguments, string? stdinPath = null,
        string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(tool, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdinPath is not null,
            WorkingDirectory = workingDirectory ?? "",
        };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdinPath is not null)
        {
            using (var input = File.OpenRead(stdinPath))
            {
                input.CopyTo(process.StandardInput.BaseStream);
            }
            process.StandardInput.Close();
        }
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
