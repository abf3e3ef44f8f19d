using System.Text.Json.Nodes;

namespace VmDebug.Engine.Qmp;

/// <summary>A QEMU version as QMP reports it (greeting and <c>query-version</c>).</summary>
public sealed record QmpVersion(int Major, int Minor, int Micro, string Package)
{
    public override string ToString() => Package.Length == 0 ? $"{Major}.{Minor}.{Micro}" : $"{Major}.{Minor}.{Micro} ({Package.Trim()})";
}

/// <summary>The server's greeting: <c>{"QMP":{"version":…,"capabilities":[…]}}</c>.</summary>
public sealed record QmpGreeting(QmpVersion Version, IReadOnlyList<string> Capabilities);

/// <summary>An asynchronous QMP event, e.g. <c>STOP</c>, <c>GUEST_PANICKED</c>, <c>DUMP_COMPLETED</c>.</summary>
/// <param name="Name">The event name.</param>
/// <param name="Timestamp">When QEMU emitted it (from its seconds/microseconds pair).</param>
/// <param name="Data">The event's <c>data</c> member, or null when it has none.</param>
public sealed record QmpEvent(string Name, DateTimeOffset Timestamp, JsonObject? Data);

/// <summary>Result of <c>query-status</c>.</summary>
/// <param name="Running">True while vCPUs run.</param>
/// <param name="Status">QEMU's run state, e.g. <c>running</c>, <c>paused</c>, <c>prelaunch</c>, <c>guest-panicked</c>.</param>
public sealed record QmpStatus(bool Running, string Status);

/// <summary>State of the current or last memory dump (<c>query-dump</c>'s <c>status</c>).</summary>
public enum QmpDumpState
{
    None,
    Active,
    Completed,
    Failed,
}

/// <summary>Result of <c>query-dump</c>: bytes written so far out of the total.</summary>
public sealed record QmpDumpStatus(QmpDumpState Status, long Completed, long Total);

/// <summary>Arguments of <c>dump-guest-memory</c>.</summary>
/// <param name="Protocol"><c>file:PATH</c> (QEMU creates the file) or <c>fd:NAME</c> (a descriptor passed with getfd).</param>
public sealed record DumpGuestMemoryRequest(string Protocol)
{
    /// <summary>Dump through the guest's page tables (virtual view). Usually false for crash dumps.</summary>
    public bool Paging { get; init; }

    /// <summary>Return at once and run the dump in the background (poll <c>query-dump</c>, wait for DUMP_COMPLETED).</summary>
    public bool Detach { get; init; }

    /// <summary>elf, kdump-zlib, kdump-lzo, kdump-snappy, win-dmp …; null lets QEMU choose (elf).</summary>
    public string? Format { get; init; }

    /// <summary>First guest-physical address to dump; must be given together with <see cref="Length"/>.</summary>
    public long? Begin { get; init; }

    /// <summary>Number of bytes to dump from <see cref="Begin"/>.</summary>
    public long? Length { get; init; }

    public static DumpGuestMemoryRequest ToFile(string path) => new("file:" + path);
    public static DumpGuestMemoryRequest ToFd(string fdName) => new("fd:" + fdName);
}
