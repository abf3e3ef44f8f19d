using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using VmDebug.Engine.Compression;
using VmDebug.Engine.CrashConfiguration;
using VmDebug.Engine.Kmsg;
using VmDebug.Engine.ProcessCore;
using VmDebug.Engine.Qmp;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Fuzz;

/// <summary>The engine entry points each kind of case goes through, as the cmdlets and the CLI call them.</summary>
internal static class FuzzTargets
{
    private const int MaxPagesRead = 64;

    /// <summary>Open, describe, read pages, plan and run the repair, and rewrite as ELF and kdump (into nothing).</summary>
    public static async Task VmcoreAsync(byte[] data, string file)
    {
        await File.WriteAllBytesAsync(file, data);
        using (var reader = VmcoreFile.Open(file))
        {
            _ = reader.VmcoreInfo?.OsRelease;
            var page = new byte[reader.PageSize];
            var read = 0;
            foreach (var range in reader.Ranges)
            {
                for (var pfn = range.Start / (ulong)reader.PageSize; pfn * (ulong)reader.PageSize < range.End && read < MaxPagesRead; pfn++, read++)
                {
                    reader.ReadPage(pfn, page);
                }
            }
            VmcoreRepairer.Plan(reader);
            await ElfVmcoreWriter.WriteAsync(reader, new DiscardStream());
            // The kdump writer reads back what it wrote (it closes unused descriptor room), so it needs a real file.
            await using (var kdump = new FileStream(file + ".kdump", FileMode.Create, FileAccess.ReadWrite, FileShare.None, 4096, FileOptions.DeleteOnClose))
            {
                await KdumpWriter.WriteAsync(reader, kdump, new KdumpWriteOptions { Compression = PageCompression.Zlib, MaxDegreeOfParallelism = 1 });
            }
        }
        VmcoreFile.Describe(file);
        await VmcoreRepairer.RepairAsync(file, new DiscardStream());
    }

    /// <summary>What vmdebug cores and dump --core-file do with a core before extracting RAM.</summary>
    public static Task ProcessCoreAsync(byte[] data, string file)
    {
        File.WriteAllBytes(file, data);
        QemuCoreDumpFinder.Inspect(file, CancellationToken.None);
        using var core = ProcessCoreFile.Open(file);
        _ = core.Arguments;
        if (QemuCoreAnalysis.IsQemu(core))
        {
            QemuCoreAnalysis.Analyze(core, null);
        }
        return Task.CompletedTask;
    }

    public static Task QemuConfAsync(byte[] data, string file)
    {
        var document = LibvirtConfDocument.Parse(Encoding.UTF8.GetString(data), file);
        _ = document.GetString("max_core");
        document.With("max_core", LibvirtConfValue.FromString("unlimited")).Without("dump_guest_core");
        return Task.CompletedTask;
    }

    public static Task DomainXmlAsync(byte[] data, string file)
    {
        var document = DomainXmlDocument.Parse(Encoding.UTF8.GetString(data), file);
        _ = document.Root.Elements().Count();
        return Task.CompletedTask;
    }

    /// <summary>Feeds the bytes in chunks of the sizes the first bytes give, as a socket would deliver them, and parses each record.</summary>
    public static Task KmsgAsync(byte[] data, string file)
    {
        var framer = new KmsgFramer(8192);
        var chunk = 1 + (data.Length > 0 ? data[0] : 7);
        for (var offset = 0; offset < data.Length; offset += chunk)
        {
            var piece = data.AsSpan(offset, Math.Min(chunk, data.Length - offset));
            while (!piece.IsEmpty)
            {
                var used = framer.Feed(piece);
                piece = piece[used..];
                while (framer.TryTakeRecord(out var record, out var truncated))
                {
                    ParseRecord(record, truncated);
                }
                if (used == 0)
                {
                    break;
                }
            }
        }
        framer.Finish();
        while (framer.TryTakeRecord(out var last, out var truncatedLast))
        {
            ParseRecord(last, truncatedLast);
        }
        return Task.CompletedTask;
    }

    private static void ParseRecord(ReadOnlySpan<byte> record, bool truncated)
    {
        try
        {
            KmsgParser.Parse(record, truncated, "fuzz", 1, DateTimeOffset.UnixEpoch);
        }
        catch (KmsgFormatException)
        {
            // Typed, and the stream skips such a record: keep feeding.
        }
    }

    /// <summary>
    /// A QMP peer that answers with the case's lines (greeting, then one reply per command, ids spliced in where the
    /// line has the placeholder), and a client running the commands vmdebug dump runs.
    /// </summary>
    public static async Task QmpAsync(byte[] data, string file)
    {
        var lines = Encoding.UTF8.GetString(data).Split('\n');
        File.Delete(file);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(file));
        listener.Listen(1);
        using var stop = new CancellationTokenSource();
        var server = ServeAsync(listener, lines, stop.Token);
        try
        {
            // Only the client's own time limits apply: a reply it waits for forever is a hang the runner catches.
            var options = new QmpClientOptions { HandshakeTimeout = TimeSpan.FromSeconds(1), CommandTimeout = TimeSpan.FromSeconds(1), MaxMessageBytes = 1 << 20 };
            await using var client = await QmpClient.ConnectAsync(file, options);
            await client.QueryStatusAsync();
            await client.QueryDumpGuestMemoryCapabilityAsync();
            await client.QueryDumpAsync();
            await client.QueryVersionAsync();
        }
        finally
        {
            stop.Cancel();
            try
            {
                await server;
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or IOException)
            {
                // The peer's side ends however the client left.
            }
        }
    }

    private static async Task ServeAsync(Socket listener, string[] lines, CancellationToken cancellationToken)
    {
        using var connection = await listener.AcceptAsync(cancellationToken);
        await using var stream = new NetworkStream(connection);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(lines[0] + "\r\n"), cancellationToken);
        for (var i = 1; i < lines.Length; i++)
        {
            var request = await reader.ReadLineAsync(cancellationToken);
            if (request is null)
            {
                return;
            }
            var id = IdOf(request);
            await stream.WriteAsync(Encoding.UTF8.GetBytes(lines[i].Replace("@ID@", id, StringComparison.Ordinal) + "\r\n"), cancellationToken);
        }
    }

    private static string IdOf(string request)
    {
        var at = request.IndexOf("\"id\"", StringComparison.Ordinal);
        if (at < 0)
        {
            return "";
        }
        var start = request.IndexOf('"', request.IndexOf(':', at) + 1) + 1;
        var end = request.IndexOf('"', start);
        return start > 0 && end > start ? request[start..end] : "";
    }

    /// <summary>Field offsets within ELF64 structures, for the mutators.</summary>
    public static (long Offset, int Count) ProgramHeaders(byte[] data) =>
        data.Length < 64 ? (0, 0) : ((long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(32)), long.MaxValue), BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(56)));
}
