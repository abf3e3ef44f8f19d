using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.Json.Nodes;

namespace VmDebug.Cli.Commands;

/// <summary>
/// vmdebug kmsg (--vsock-port N [--cid CID…] | --hybrid-vsock PATH --port N | --chardev PATH | --domain NAME [--connect URI]
/// [--port N]) [--count N] [--timeout S] [--min-level L] [--json]. Records go to stdout one line each, as they arrive;
/// stream events go to stderr.
/// </summary>
public static class KmsgCliCommand
{
    public static Command Create()
    {
        var vsockPort = new Option<uint?>("--vsock-port") { Description = "Listen on this AF_VSOCK port for any number of guests." };
        var cids = new Option<uint[]>("--cid")
        {
            Description = "With --vsock-port: only these guest CIDs may connect (repeat it, or list several).",
            AllowMultipleArgumentsPerToken = true,
        };
        var hybrid = new Option<string?>("--hybrid-vsock") { Description = "A VMM's hybrid vsock Unix socket (Firecracker, Cloud Hypervisor); listens on PATH_PORT." };
        var port = new Option<uint?>("--port") { Description = "With --hybrid-vsock: the port guests connect to. With --domain: use the domain's vsock device on this port." };
        var chardev = new Option<string?>("--chardev") { Description = "A QEMU chardev Unix socket to connect to (e.g. a virtio-serial port)." };
        var domain = new Option<string?>("--domain") { Description = "A libvirt domain with an org.vmdebug.kmsg virtio channel or a vsock device." };
        var connect = new Option<string>("--connect") { Description = "libvirt connection URI, with --domain.", DefaultValueFactory = _ => Engine.Libvirt.LibvirtConnection.DefaultUri };
        var count = new Option<int?>("--count") { Description = "Stop after this many records." };
        var timeout = new Option<int?>("--timeout") { Description = "Stop after this many seconds." };
        var minLevel = new Option<KmsgLevel>("--min-level")
        {
            Description = "Least severe level shown: emerg, alert, crit, err, warn, notice, info, debug (or 0-7).",
            DefaultValueFactory = _ => KmsgLevel.Debug,
            CustomParser = ParseLevel,
        };
        minLevel.CompletionSources.Clear();
        minLevel.CompletionSources.Add(Enum.GetNames<KmsgLevel>().Select(n => n.ToLowerInvariant()).ToArray());
        var json = CliCommand.JsonOption();
        var command = new Command("kmsg", "Stream guests' kernel logs (/dev/kmsg forwarded over vsock, hybrid vsock or virtio-serial), one record per line.")
        {
            vsockPort, cids, hybrid, port, chardev, domain, connect, count, timeout, minLevel, json,
        };
        command.Validators.Add(result =>
        {
            var given = new[] { ("--vsock-port", result.GetValue(vsockPort) is not null), ("--hybrid-vsock", result.GetValue(hybrid) is not null),
                ("--chardev", result.GetValue(chardev) is not null), ("--domain", result.GetValue(domain) is not null) };
            var transports = given.Where(g => g.Item2).Select(g => g.Item1).ToList();
            if (transports.Count != 1)
            {
                result.AddError(transports.Count == 0
                    ? "Give one transport: --vsock-port N, --hybrid-vsock PATH --port N, --chardev PATH or --domain NAME."
                    : $"Give only one transport, not {string.Join(" and ", transports)}.");
                return;
            }

            var transport = transports[0];
            if (result.GetValue(cids) is { Length: > 0 } && transport != "--vsock-port")
            {
                result.AddError("--cid applies only to --vsock-port.");
            }

            if (result.GetValue(port) is null && transport == "--hybrid-vsock")
            {
                result.AddError("--hybrid-vsock needs --port: the port guests connect to.");
            }
            else if (result.GetValue(port) is not null && transport is "--vsock-port" or "--chardev")
            {
                result.AddError($"--port applies only to --hybrid-vsock and --domain{(transport == "--vsock-port" ? "; --vsock-port takes the port itself" : "")}.");
            }

            if (result.GetResult(connect) is { Implicit: false } && transport != "--domain")
            {
                result.AddError("--connect applies only to --domain.");
            }

            if (result.GetValue(count) is <= 0)
            {
                result.AddError("--count must be positive.");
            }

            if (result.GetValue(timeout) is <= 0)
            {
                result.AddError("--timeout must be a positive number of seconds.");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var asJson = parse.GetValue(json);
            var options = new KmsgStreamOptions
            {
                Count = parse.GetValue(count),
                Timeout = parse.GetValue(timeout) is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
                MinimumLevel = parse.GetValue(minLevel),
            };
            try
            {
                var source = parse.GetValue(domain) is { } name
                    ? await KmsgSource.ForDomainAsync(name, parse.GetValue(connect), parse.GetValue(port), cancellationToken)
                    : parse.GetValue(chardev) is { } path ? KmsgSource.ChardevSocket(Path.GetFullPath(path))
                    : parse.GetValue(hybrid) is { } uds ? KmsgSource.HybridVsock(Path.GetFullPath(uds), parse.GetValue(port)!.Value)
                    : KmsgSource.Vsock(parse.GetValue(vsockPort)!.Value, parse.GetValue(cids) is { Length: > 0 } allowed ? allowed : null);
                // Many guests share one vsock listener: name each on its line.
                var showGuest = parse.GetValue(vsockPort) is not null;
                if (!asJson)
                {
                    Console.Error.WriteLine($"vmdebug: reading guest kernel logs from {source.Description}");
                }

                await foreach (var item in KmsgStream.ReadAsync(source, options, cancellationToken))
                {
                    if (item is KmsgRecord record)
                    {
                        if (!TryWriteLine(asJson ? ToJson(record).ToJsonString(CliOutput.Json) : ToLine(record, showGuest)))
                        {
                            // The reader of stdout went away (e.g. | head): a requested end.
                            return 0;
                        }
                    }
                    else
                    {
                        var streamEvent = (KmsgStreamEvent)item;
                        Console.Error.WriteLine(asJson
                            ? new JsonObject { ["event"] = ToJson(streamEvent) }.ToJsonString(CliOutput.Json)
                            : $"vmdebug: {streamEvent.Message}");
                    }
                }

                return 0;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl+C is how a live stream normally ends; the sockets are closed by now.
                return 130;
            }
            catch (Exception e)
            {
                return CliOutput.WriteError(e, asJson, cancellationToken);
            }
        });
        return command;
    }

    /// <summary>
    /// dmesg's layout: <c>[    1.234567] err    message</c>, the text with control characters escaped. The guest,
    /// when shown, is a CID the host's kernel reported, not guest text.
    /// </summary>
    public static string ToLine(KmsgRecord record, bool showGuest)
    {
        var microseconds = record.SinceBoot.Ticks / 10;
        var time = string.Create(CultureInfo.InvariantCulture, $"[{microseconds / 1_000_000,5}.{microseconds % 1_000_000:D6}]");
        var level = record.Level.ToString().ToLowerInvariant().PadRight(6);
        return showGuest
            ? $"{time} {record.Guest} {level} {record.GetDisplayMessage()}"
            : $"{time} {level} {record.GetDisplayMessage()}";
    }

    public static JsonObject ToJson(KmsgRecord record)
    {
        var fields = new JsonObject();
        foreach (var (key, value) in record.Fields)
        {
            fields[key] = value;
        }

        return new JsonObject
        {
            ["guest"] = record.Guest,
            ["connection"] = record.Connection,
            ["sequence"] = record.Sequence,
            ["sinceBoot"] = record.SinceBoot.Ticks / 10 / 1_000_000m,
            ["level"] = record.Level.ToString(),
            ["facility"] = record.Facility.ToString(),
            ["flags"] = record.Flags.ToString(),
            ["caller"] = record.Caller,
            ["message"] = record.Message,
            ["rawMessage"] = record.GetRawMessage(),
            ["fields"] = fields,
            ["truncated"] = record.Truncated,
            ["received"] = record.Received.ToString("O", CultureInfo.InvariantCulture),
        };
    }

    private static JsonObject ToJson(KmsgStreamEvent streamEvent) => new()
    {
        ["kind"] = streamEvent.Kind.ToString(),
        ["guest"] = streamEvent.Guest,
        ["connection"] = streamEvent.Connection,
        ["message"] = streamEvent.Message,
        ["count"] = streamEvent.Count,
        ["previousSequence"] = streamEvent.PreviousSequence,
        ["sequence"] = streamEvent.Sequence,
        ["received"] = streamEvent.Received.ToString("O", CultureInfo.InvariantCulture),
    };

    /// <summary>Writes one line to stdout (flushed: Console.Out writes through); false when stdout is closed.</summary>
    private static bool TryWriteLine(string line)
    {
        try
        {
            Console.Out.WriteLine(line);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static KmsgLevel ParseLevel(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number is >= 0 and <= 7)
        {
            return (KmsgLevel)number;
        }

        if (!text.All(char.IsAsciiLetter) || !Enum.TryParse<KmsgLevel>(text, ignoreCase: true, out var level))
        {
            result.AddError($"'{text}' is not a log level: use emerg, alert, crit, err, warn, notice, info, debug or 0-7.");
            return KmsgLevel.Debug;
        }

        return level;
    }
}
