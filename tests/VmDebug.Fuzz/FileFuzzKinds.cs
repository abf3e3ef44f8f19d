using System.Buffers.Binary;
using System.Net;
using System.Text;
using VmDebug.Engine.Debuginfod;
using VmDebug.Engine.Fleet;
using VmDebug.Engine.ProcessCore;
using VmDebug.Engine.VirtioTrace;

namespace VmDebug.Fuzz;

/// <summary>
/// Kinds for the files VmDebug reads beside dumps: the fleet archive's crash.json (Get-GuestCrash), a debuginfod
/// server's ELF (build-id check before the rename), systemd-coredump file names and compressed cores
/// (Get-QemuCoreDump's listing and extraction), and virtio-trace ring-buffer pages (Receive-VirtioTrace's counter).
/// </summary>
internal static class FileFuzzKinds
{
    private static readonly (int, int)[] ElfHeaderFields = [(4, 1), (5, 1), (32, 8), (40, 8), (54, 2), (56, 2), (58, 2), (60, 2), (62, 2)];
    private static readonly (int, int)[] SectionHeaderFields = [(4, 4), (24, 8), (32, 8), (48, 8)];

    public static IEnumerable<FuzzKind> Load(string seedDirectory)
    {
        byte[][] Seeds(string sub) =>
            Directory.Exists(Path.Combine(seedDirectory, sub))
                ? [.. Directory.GetFiles(Path.Combine(seedDirectory, sub)).Order(StringComparer.Ordinal).Select(File.ReadAllBytes)]
                : [];
        yield return new FuzzKind("crash-json", Seeds("crash"), MutateCrashJson, CrashJsonAsync);
        var elves = Seeds("debuginfod");
        yield return new FuzzKind("debuginfod-elf", elves, MutateElf, DebuginfodAsync);
        yield return new FuzzKind("systemd-core-name", Seeds("core-name"), (d, m) => m.MutateTextBytes(Encoding.UTF8.GetString(d)), CoreNamesAsync);
        yield return new FuzzKind("compressed-core", Seeds("compressed-core"), MutateCompressed, CompressedCoreAsync);
        yield return new FuzzKind("virtio-trace-page", Seeds("trace"), MutateTracePages, TracePagesAsync);
        yield return new FuzzKind("virtio-trace-metadata", Seeds("trace-metadata"), MutateTar, TraceMetadataAsync);
    }

    /// <summary>Get-GuestCrash's read of an archive holding one crash folder with the case as its crash.json.</summary>
    private static Task CrashJsonAsync(byte[] data, string file)
    {
        var folder = Path.Combine(file + ".archive", "guest", "20261201T112651Z");
        Directory.CreateDirectory(folder);
        try
        {
            File.WriteAllBytes(Path.Combine(folder, "crash.json"), data);
            var problems = new List<string>();
            _ = new CrashArchive(file + ".archive").List(null, null, problems);
            _ = CrashArchive.Read(folder);
        }
        finally
        {
            Directory.Delete(file + ".archive", recursive: true);
        }
        return Task.CompletedTask;
    }

    /// <summary>A debuginfod server that answers with the case; the client downloads it, checks its build id and renames it into the cache.</summary>
    private static async Task DebuginfodAsync(byte[] data, string file)
    {
        var cache = file + ".cache";
        try
        {
            // The id asked for is the one the case's note still holds (a file the check must accept, unless its
            // headers lead elsewhere), or any other (a file it must refuse).
            using var client = new DebuginfodClient([new Uri("http://debuginfod.fuzz.invalid/")], new CaseHandler(data));
            await client.FetchDebugInfoAsync(BuildIdOf(data), cache, CancellationToken.None);
        }
        finally
        {
            if (Directory.Exists(cache))
            {
                Directory.Delete(cache, recursive: true);
            }
        }
    }

    /// <summary>What the core listing does with each name of the case (one per line).</summary>
    private static Task CoreNamesAsync(byte[] data, string file)
    {
        foreach (var name in Encoding.UTF8.GetString(data).Split('\n'))
        {
            _ = SystemdCoreFileName.TryParse(name);
        }
        return Task.CompletedTask;
    }

    /// <summary>Get-QemuCoreDump's listing (headers only) of a compressed core, then the whole decompression and the core's analysis.</summary>
    private static Task CompressedCoreAsync(byte[] data, string file)
    {
        File.WriteAllBytes(file, data);
        _ = QemuCoreDumpFinder.Inspect(file, CancellationToken.None);
        if (CompressedCoreFile.FormatOf(data) is { } format)
        {
            using var core = ProcessCoreFile.Open(CompressedCoreFile.Open(file, format, CancellationToken.None));
            if (QemuCoreAnalysis.IsQemu(core))
            {
                QemuCoreAnalysis.Analyze(core, null);
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>One CPU's stream fed to the counter in the chunk sizes a FIFO gives (the first byte picks them).</summary>
    private static Task TracePagesAsync(byte[] data, string file)
    {
        var counter = new RingBufferPageCounter();
        var chunk = 1 + ((data.Length > 0 ? data[0] : 0) * 64);
        for (var offset = 0; offset < data.Length; offset += chunk)
        {
            counter.Add(data.AsSpan(offset, Math.Min(chunk, data.Length - offset)));
        }
        return Task.CompletedTask;
    }

    /// <summary>Receive-VirtioTrace's unpacking of the guest's metadata tar (bounded, plain files inside the output only).</summary>
    private static Task TraceMetadataAsync(byte[] data, string file)
    {
        File.WriteAllBytes(file, data);
        var destination = file + ".tracing";
        try
        {
            VirtioTraceReceiver.ExtractMetadata(file, destination, new VirtioTraceReceiveRequest { Directory = file, OutputPath = destination }.MaxMetadataBytes, [], []);
        }
        finally
        {
            if (Directory.Exists(destination))
            {
                Directory.Delete(destination, recursive: true);
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>One field of one entry's ustar header (name, mode, size, type, link, prefix), its checksum mostly made right again.</summary>
    private static byte[] MutateTar(byte[] d, Mutator m)
    {
        var headers = new List<int>();
        for (var at = 0; at + 512 <= d.Length && d.AsSpan(at, 512).ContainsAnyExcept((byte)0);)
        {
            headers.Add(at);
            var size = ParseOctal(d.AsSpan(at + 124, 12));
            at += 512 + (int)Math.Min((size + 511) / 512 * 512, d.Length);
        }
        if (headers.Count == 0)
        {
            m.FlipBytes(d, 0, d.Length, 4);
            return d;
        }
        var header = headers[m.Random.Next(headers.Count)];
        (int Offset, int Width)[] fields = [(0, 100), (100, 8), (124, 12), (148, 8), (156, 1), (157, 100), (345, 155)];
        var (offset, width) = fields[m.Random.Next(fields.Length)];
        var field = d.AsSpan(header + offset, width);
        switch (m.Random.Next(4))
        {
            case 0:
                m.FlipBytes(d, header + offset, header + offset + width, 1 + m.Random.Next(3));
                break;
            case 1:
                // A number in the field's octal form, whatever it means there.
                var octal = Convert.ToString((long)(m.Interesting(d.Length) & long.MaxValue), 8);
                field.Fill((byte)'0');
                Encoding.ASCII.GetBytes(octal.Length >= width ? octal[^(width - 1)..] : octal).CopyTo(field[Math.Max(0, width - 1 - octal.Length)..]);
                field[^1] = 0;
                break;
            case 2:
                string[] names = ["../escape", "/etc/passwd", "a/../../b", "./", "x\0y", "events/../../z", new string('n', 99), "\u001b[2J"];
                field.Clear();
                var name = Encoding.UTF8.GetBytes(names[m.Random.Next(names.Length)]);
                name.AsSpan(0, Math.Min(name.Length, width)).CopyTo(field);
                break;
            default:
                d[header + 156] = (byte)"0123456789xgLKA\0"[m.Random.Next(16)];
                break;
        }
        if (m.Random.Next(4) != 0)
        {
            var sum = 0;
            for (var i = 0; i < 512; i++)
            {
                sum += i is >= 148 and < 156 ? ' ' : d[header + i];
            }
            Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(d.AsSpan(header + 148));
        }
        return m.Random.Next(16) == 0 ? m.Truncate(d) : d;
    }

    private static long ParseOctal(ReadOnlySpan<byte> field)
    {
        long value = 0;
        foreach (var b in field)
        {
            if (b is < (byte)'0' or > (byte)'7')
            {
                break;
            }
            value = (value * 8) + (b - '0');
        }
        return value;
    }

    /// <summary>Token edits, or one member's value replaced by another JSON type or the member given twice.</summary>
    private static byte[] MutateCrashJson(byte[] d, Mutator m)
    {
        var lines = Encoding.UTF8.GetString(d).Split('\n').ToList();
        var members = Enumerable.Range(0, lines.Count).Where(i => lines[i].Contains("\": ", StringComparison.Ordinal)).ToList();
        if (members.Count == 0 || m.Random.Next(3) == 0)
        {
            return m.MutateTextBytes(Encoding.UTF8.GetString(d));
        }
        var i = members[m.Random.Next(members.Count)];
        if (m.Random.Next(4) == 0)
        {
            lines.Insert(i, lines[i].TrimEnd(',') + ",");
        }
        else
        {
            string[] values = ["\"1\"", "1.5", "99999999999", "-1", "null", "[]", "{}", "true", "\"\\u001b[2J\"", "\"9999-99-99\"", "[\"x\", 1]", "1e400"];
            var colon = lines[i].IndexOf("\": ", StringComparison.Ordinal) + 3;
            lines[i] = lines[i][..colon] + values[m.Random.Next(values.Length)] + (lines[i].EndsWith(',') ? "," : "");
        }
        return Encoding.UTF8.GetBytes(string.Join('\n', lines));
    }

    /// <summary>ELF header fields, a SHT_NOTE section's header, or the build-id note's sizes and type.</summary>
    private static byte[] MutateElf(byte[] d, Mutator m)
    {
        var shoff = (long)BinaryPrimitives.ReadUInt64LittleEndian(d.AsSpan(40));
        var shnum = BinaryPrimitives.ReadUInt16LittleEndian(d.AsSpan(60));
        var notes = Enumerable.Range(0, shnum).Select(i => shoff + i * 64L)
            .Where(s => s + 64 <= d.Length && BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan((int)s + 4)) == 7).ToArray();
        var edits = 1 + m.Random.Next(2);
        for (var e = 0; e < edits; e++)
        {
            switch (m.Random.Next(3))
            {
                case 0:
                    m.MutateOneOf(d, 0, ElfHeaderFields);
                    break;
                case 1 when notes.Length > 0:
                    m.MutateOneOf(d, notes[m.Random.Next(notes.Length)], SectionHeaderFields);
                    break;
                default:
                    var note = d.AsSpan().IndexOf("\u0004\0\0\0\u0014\0\0\0\u0003\0\0\0GNU\0"u8);
                    if (note >= 0)
                    {
                        m.MutateOneOf(d, note, [(0, 4), (4, 4), (8, 4)]);
                    }
                    break;
            }
        }
        return m.Random.Next(16) == 0 ? m.Truncate(d) : d;
    }

    /// <summary>The container's header bytes (frame, stream and block headers sit at the start), any word, or a cut.</summary>
    private static byte[] MutateCompressed(byte[] d, Mutator m)
    {
        switch (m.Random.Next(4))
        {
            case 0:
                m.FlipBytes(d, 0, 32, 1 + m.Random.Next(3));
                break;
            case 1:
                m.MutateOneOf(d, m.Random.Next(Math.Max(1, d.Length - 4)), [(0, 4), (0, 2), (0, 1)]);
                break;
            case 2:
                m.FlipBytes(d, 0, d.Length, 1 + m.Random.Next(8));
                break;
            default:
                // Two frames end to end (systemd never writes that, a hostile file may).
                return m.Random.Next(2) == 0 ? m.Truncate(d) : [.. d, .. d.AsSpan(0, m.Random.Next(d.Length))];
        }
        return d;
    }

    /// <summary>A page header (time stamp, commit and its flag bits) or an event header (type_len, time delta, array length).</summary>
    private static byte[] MutateTracePages(byte[] d, Mutator m)
    {
        var pages = Math.Max(1, d.Length / RingBufferPageCounter.DefaultPageSize);
        var page = (long)m.Random.Next(pages) * RingBufferPageCounter.DefaultPageSize;
        var edits = 1 + m.Random.Next(3);
        for (var e = 0; e < edits; e++)
        {
            switch (m.Random.Next(3))
            {
                case 0:
                    m.MutateOneOf(d, page, [(0, 8), (8, 8), (8, 4), (12, 4)]);
                    break;
                case 1:
                    m.MutateOneOf(d, page + 16 + (m.Random.Next((RingBufferPageCounter.DefaultPageSize - 24) / 4) * 4), [(0, 4), (4, 4), (0, 1)]);
                    break;
                default:
                    m.FlipBytes(d, page, page + RingBufferPageCounter.DefaultPageSize, 1 + m.Random.Next(8));
                    break;
            }
        }
        return m.Random.Next(12) == 0 ? m.Truncate(d) : d;
    }

    private static string BuildIdOf(byte[] elf)
    {
        var note = elf.AsSpan().IndexOf("\u0004\0\0\0\u0014\0\0\0\u0003\0\0\0GNU\0"u8);
        return note < 0 || note + 36 > elf.Length ? "00" : Convert.ToHexString(elf.AsSpan(note + 16, 20)).ToLowerInvariant();
    }

    /// <summary>Answers every request with the case's bytes, as a server would send a file.</summary>
    private sealed class CaseHandler(byte[] data) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(data), RequestMessage = request });
    }
}
