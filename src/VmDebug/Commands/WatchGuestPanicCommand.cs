using System.Management.Automation;
using VmDebug.Engine;
using VmDebug.Engine.Debuginfod;
using VmDebug.Engine.Fleet;

namespace VmDebug.Commands;

/// <summary>
/// Watches guests for panics and archives each crash; writes a GuestCrash as each capture completes, other events as
/// verbose messages, warnings or (for skipped and failed captures) non-terminating errors.
/// </summary>
[Cmdlet(VerbsCommon.Watch, "GuestPanic", DefaultParameterSetName = SocketSet)]
[OutputType(typeof(GuestCrash))]
public sealed class WatchGuestPanicCommand : VmDebugCmdlet
{
    private const string SocketSet = "QmpSocket";
    private const string GlobSet = "SocketGlob";
    private const string DomainSet = "AllDomains";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = SocketSet)]
    [ValidateNotNullOrEmpty]
    public string[] QmpSocket { get; set; } = [];

    /// <summary>A glob of QMP sockets, rescanned every 2 s for new ones.</summary>
    [Parameter(Mandatory = true, ParameterSetName = GlobSet)]
    [ValidateNotNullOrEmpty]
    public string SocketGlob { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = DomainSet)]
    public SwitchParameter AllDomains { get; set; }

    [Parameter(ParameterSetName = DomainSet)]
    [ValidateNotNullOrEmpty]
    public string ConnectionUri { get; set; } = "qemu:///system";

    /// <summary>The crash archive directory (created when missing).</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string ArchivePath { get; set; } = "";

    [Parameter]
    public DumpFormat Format { get; set; } = DumpFormat.KdumpZstd;

    [Parameter]
    [ValidateRange(0, 31)]
    public int DumpLevel { get; set; } = 31;

    [Parameter]
    public AfterCaptureAction After { get; set; } = AfterCaptureAction.Leave;

    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long MaxArchiveBytes { get; set; }

    [Parameter]
    [ValidateRange(0, long.MaxValue)]
    public long KeepFreeBytes { get; set; }

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MaxCrashesPerGuest { get; set; }

    /// <summary>Seconds of the crash-loop window of -MaxCrashesPerGuest.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Window { get; set; } = 3600;

    [Parameter]
    [ValidateRange(1, 64)]
    public int MaxParallel { get; set; } = 1;

    /// <summary>debuginfod servers for the matching vmlinux; by default those in DEBUGINFOD_URLS.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[] Debuginfod { get; set; } = [];

    /// <summary>Stop after this many archived crashes.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Count { get; set; }

    /// <summary>Stop after this many seconds.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Timeout { get; set; }

    protected override void EndProcessing()
    {
        var servers = new List<Uri>();
        foreach (var url in Debuginfod)
        {
            try
            {
                servers.Add(DebuginfodClient.ParseServer(url));
            }
            catch (VmDebugException e)
            {
                WriteEngineError(e, url);
            }
        }
        if (servers.Count < Debuginfod.Length)
        {
            return; // each bad URL said once; a watcher without the servers asked for would archive without vmlinux
        }

        var options = new WatchOptions
        {
            Sockets = [.. QmpSocket.Select(GetUnresolvedProviderPathFromPSPath)],
            SocketGlob = ParameterSetName == GlobSet ? GetUnresolvedProviderPathFromPSPath(SocketGlob) : null,
            AllDomains = AllDomains,
            ConnectionUri = ConnectionUri,
            ArchiveDirectory = GetUnresolvedProviderPathFromPSPath(ArchivePath),
            Format = Format,
            DumpLevel = DumpLevel,
            After = After,
            MaxArchiveBytes = MaxArchiveBytes > 0 ? MaxArchiveBytes : null,
            KeepFreeBytes = KeepFreeBytes,
            MaxCrashesPerGuest = MaxCrashesPerGuest > 0 ? MaxCrashesPerGuest : null,
            CrashWindow = TimeSpan.FromSeconds(Window),
            MaxParallel = MaxParallel,
            DebuginfodServers = servers.Count > 0 ? servers : null,
            Count = Count > 0 ? Count : null,
            Timeout = Timeout > 0 ? TimeSpan.FromSeconds(Timeout) : null,
        };
        RunEngineStream(token => FleetWatcher.WatchAsync(options, token), watchEvent =>
        {
            if (watchEvent.Crash is { } crash)
            {
                WriteObject(crash);
            }
            if (watchEvent.Level == WatchEventLevel.Error)
            {
                WriteError(new ErrorRecord(new InvalidOperationException(watchEvent.Message), "Watch" + watchEvent.Kind,
                    ErrorCategory.ResourceUnavailable, watchEvent.Guest ?? watchEvent.Source));
            }
            else if (watchEvent.Level == WatchEventLevel.Warning)
            {
                WriteWarning($"{watchEvent.Kind}: {watchEvent.Message}");
            }
            else
            {
                WriteVerbose($"{watchEvent.Time:HH:mm:ss} {watchEvent.Kind}: {watchEvent.Message}");
            }
        }, options.ArchiveDirectory);
    }
}
