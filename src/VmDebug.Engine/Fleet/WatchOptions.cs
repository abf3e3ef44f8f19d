using VmDebug.Engine.Libvirt;

namespace VmDebug.Engine.Fleet;

/// <summary>What vmdebug watch / Watch-GuestPanic watches, where it archives, and the limits it keeps.</summary>
public sealed record WatchOptions
{
    /// <summary>QMP sockets watched by name.</summary>
    public IReadOnlyList<string> Sockets { get; init; } = [];

    /// <summary>A glob of QMP sockets (e.g. /run/vms/*/qmp.sock), rescanned every <see cref="GlobRescanInterval"/>.</summary>
    public string? SocketGlob { get; init; }

    /// <summary>Every domain of <see cref="ConnectionUri"/>, through libvirt lifecycle events.</summary>
    public bool AllDomains { get; init; }

    public string ConnectionUri { get; init; } = LibvirtConnection.DefaultUri;

    public required string ArchiveDirectory { get; init; }

    public DumpFormat Format { get; init; } = DumpFormat.KdumpZstd;

    /// <summary>makedumpfile's dump level; 31 (kdump-tools' default) keeps the kernel's own pages only.</summary>
    public int DumpLevel { get; init; } = 31;

    public AfterCaptureAction After { get; init; } = AfterCaptureAction.Leave;

    /// <summary>The archive's size cap; oldest crashes are removed first. Null: no cap.</summary>
    public long? MaxArchiveBytes { get; init; }

    /// <summary>No dump starts when the archive's file system would keep less than this free.</summary>
    public long KeepFreeBytes { get; init; }

    /// <summary>A guest is dumped at most this many times within <see cref="CrashWindow"/>; null: no limit.</summary>
    public int? MaxCrashesPerGuest { get; init; }

    public TimeSpan CrashWindow { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Dumps running at once; the others wait in order.</summary>
    public int MaxParallel { get; init; } = 1;

    /// <summary>debuginfod servers asked for the matching vmlinux; null: those of DEBUGINFOD_URLS; empty: none asked.</summary>
    public IReadOnlyList<Uri>? DebuginfodServers { get; init; }

    /// <summary>Stop after this many completed captures; null: run until cancelled.</summary>
    public int? Count { get; init; }

    /// <summary>Stop after this long; null: run until cancelled.</summary>
    public TimeSpan? Timeout { get; init; }

    public TimeSpan GlobRescanInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Between attempts to reach a socket or libvirtd that is busy or away.</summary>
    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromSeconds(2);

    public void Validate()
    {
        var sources = (Sockets.Count > 0 ? 1 : 0) + (SocketGlob is null ? 0 : 1) + (AllDomains ? 1 : 0);
        if (sources == 0)
        {
            throw new VmDebugException("WatchNoSource", ErrorKind.InvalidArgument,
                "Name what to watch: QMP sockets (--socket/-QmpSocket), a socket glob (--socket-glob/-SocketGlob) or every libvirt domain (--all-domains/-AllDomains).");
        }
        if (MaxParallel < 1 || MaxParallel > 64)
        {
            throw new VmDebugException("WatchMaxParallelInvalid", ErrorKind.InvalidArgument,
                $"--max-parallel must be between 1 and 64, not {MaxParallel}.", MaxParallel);
        }
        if (MaxCrashesPerGuest is < 1)
        {
            throw new VmDebugException("WatchMaxCrashesInvalid", ErrorKind.InvalidArgument,
                $"--max-crashes-per-guest must be at least 1, not {MaxCrashesPerGuest}.", MaxCrashesPerGuest);
        }
        if (CrashWindow <= TimeSpan.Zero)
        {
            throw new VmDebugException("WatchWindowInvalid", ErrorKind.InvalidArgument, "--window must be a positive number of seconds.", CrashWindow);
        }
        if (MaxArchiveBytes is <= 0 || KeepFreeBytes < 0)
        {
            throw new VmDebugException("WatchSizeInvalid", ErrorKind.InvalidArgument,
                "--max-archive-bytes must be positive and --keep-free-bytes not negative.", MaxArchiveBytes);
        }
        if (Format == DumpFormat.WinDmp)
        {
            throw new VmDebugException("WatchFormatUnsupported", ErrorKind.InvalidArgument,
                "The watcher archives Linux crashes: choose elf or a kdump format, not win-dmp.", Format);
        }
        if (Format == DumpFormat.Elf && DumpLevel != 0)
        {
            throw new VmDebugException("DumpLevelNeedsKdump", ErrorKind.InvalidArgument,
                $"Dump level {DumpLevel} leaves pages out, which only kdump files can record; with elf give --dump-level 0.", DumpLevel);
        }
        PageFilter.PageClassifier.ValidateLevel(DumpLevel);
    }
}
