using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using VmDebug.Engine.CrashConfiguration;
using VmDebug.Engine.Debuginfod;
using VmDebug.Engine.Dump;
using VmDebug.Engine.Fleet;
using VmDebug.Engine.Libvirt;

namespace VmDebug.Cli.Commands;

/// <summary>
/// vmdebug watch (--socket PATH... | --socket-glob GLOB | --all-domains [--connect URI]) --archive DIR [--format F]
/// [--dump-level N] [--after leave|resume|reset|destroy] [--max-archive-bytes SIZE] [--keep-free-bytes SIZE]
/// [--max-crashes-per-guest N --window SECONDS] [--max-parallel N] [--debuginfod URL] [--json]: one line per event on
/// stderr (journald reads it as is), until SIGINT/SIGTERM, --timeout or --count.
/// </summary>
public static class WatchCliCommand
{
    public static Command Create()
    {
        var socket = new Option<string[]>("--socket") { Description = "A guest's QMP Unix socket (repeat for more).", AllowMultipleArgumentsPerToken = true };
        var glob = new Option<string?>("--socket-glob") { Description = "A glob of QMP sockets, e.g. '/run/vms/*/qmp.sock'; new matches are picked up within 5 s." };
        var allDomains = new Option<bool>("--all-domains") { Description = "Watch every libvirt domain (lifecycle events), including ones defined or started later." };
        var connect = new Option<string>("--connect") { Description = "libvirt connection URI.", DefaultValueFactory = _ => LibvirtConnection.DefaultUri };
        var archive = new Option<string>("--archive") { Description = "The crash archive directory: ARCHIVE/<guest>/<UTC time>/.", Required = true };
        var format = new Option<string>("--format") { Description = "elf, kdump-zlib, kdump-lzo, kdump-snappy or kdump-zstd.", DefaultValueFactory = _ => "kdump-zstd" };
        var level = new Option<int>("--dump-level") { Description = "makedumpfile's dump level (0-31; 0 with elf).", DefaultValueFactory = _ => 31 };
        var after = new Option<string>("--after") { Description = "What to do with the guest once archived: leave, resume, reset or destroy.", DefaultValueFactory = _ => "leave" };
        after.AcceptOnlyFromAmong("leave", "resume", "reset", "destroy");
        var maxArchive = new Option<string?>("--max-archive-bytes") { Description = "Cap of the archive (e.g. 50GiB); the oldest crashes are removed first." };
        var keepFree = new Option<string?>("--keep-free-bytes") { Description = "No dump starts when the archive's file system would keep less free than this." };
        var maxCrashes = new Option<int?>("--max-crashes-per-guest") { Description = "Dump a guest at most this many times within --window." };
        var window = new Option<int>("--window") { Description = "Seconds of the crash-loop window.", DefaultValueFactory = _ => 3600 };
        var maxParallel = new Option<int>("--max-parallel") { Description = "Dumps at once; the others wait.", DefaultValueFactory = _ => 1 };
        var debuginfod = new Option<string[]>("--debuginfod") { Description = "debuginfod server for the matching vmlinux (default: DEBUGINFOD_URLS)." };
        var count = new Option<int?>("--count") { Description = "Stop after this many archived crashes." };
        var timeout = new Option<int?>("--timeout") { Description = "Stop after this many seconds." };
        var json = CliCommand.JsonOption();
        var command = new Command("watch", "Watch guests for panics and archive each crash (dump, summary, vmlinux); run as a service with contrib/vmdebug-watch.service.")
        {
            socket, glob, allDomains, connect, archive, format, level, after, maxArchive, keepFree, maxCrashes, window, maxParallel, debuginfod, count, timeout, json,
        };
        command.SetOutputAction(json, async (parse, asJson, _, cancellationToken) =>
        {
            var options = new WatchOptions
            {
                Sockets = parse.GetValue(socket) ?? [],
                SocketGlob = parse.GetValue(glob),
                AllDomains = parse.GetValue(allDomains),
                ConnectionUri = parse.GetValue(connect)!,
                ArchiveDirectory = parse.GetValue(archive)!,
                Format = DumpFormats.Parse(parse.GetValue(format)!),
                DumpLevel = parse.GetValue(level),
                After = Enum.Parse<AfterCaptureAction>(parse.GetValue(after)!, ignoreCase: true),
                MaxArchiveBytes = parse.GetValue(maxArchive) is { } cap ? ByteSize.Parse(cap, "--max-archive-bytes") : null,
                KeepFreeBytes = parse.GetValue(keepFree) is { } free ? ByteSize.Parse(free, "--keep-free-bytes") : 0,
                MaxCrashesPerGuest = parse.GetValue(maxCrashes),
                CrashWindow = TimeSpan.FromSeconds(parse.GetValue(window)),
                MaxParallel = parse.GetValue(maxParallel),
                DebuginfodServers = DebuginfodServers(parse.GetValue(debuginfod)),
                Count = parse.GetValue(count),
                Timeout = parse.GetValue(timeout) is int seconds ? TimeSpan.FromSeconds(seconds) : null,
            };
            await foreach (var watchEvent in FleetWatcher.WatchAsync(options, cancellationToken))
            {
                Console.Error.WriteLine(asJson ? JsonSerializer.Serialize(watchEvent, CliOutput.JsonContext.WatchEvent) : Line(watchEvent));
            }
        });
        return command;
    }

    /// <summary>--debuginfod as given; null lets the engine read DEBUGINFOD_URLS.</summary>
    private static IReadOnlyList<Uri>? DebuginfodServers(string[]? given) =>
        given is { Length: > 0 } ? [.. given.Select(url => DebuginfodClient.ParseServer(url))] : null;

    /// <summary>One event as journald shows it best: a priority prefix (sd-daemon &lt;N&gt;) when stderr is not a terminal.</summary>
    private static string Line(WatchEvent watchEvent)
    {
        var priority = Console.IsErrorRedirected ? watchEvent.Level switch
        {
            WatchEventLevel.Error => "<3>",
            WatchEventLevel.Warning => "<4>",
            _ => "<6>",
        } : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{priority}{watchEvent.Time:yyyy-MM-ddTHH:mm:ss.fffZ} {watchEvent.Level.ToString().ToLowerInvariant()} {watchEvent.Kind}{(watchEvent.Guest is null ? "" : " " + watchEvent.Guest)}: {watchEvent.Message}");
    }
}
