namespace VmDebug.Engine.Qmp;

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
