using VmDebug.Engine.Files;

namespace VmDebug.Engine.Dump;

/// <summary>
/// The destination of a dump. Nothing is written at <see cref="Path"/> until the dump is complete and repaired.
/// Work happens in anonymous files (O_TMPFILE, mode 0600) in the destination's directory: a killed run leaves
/// no name behind, and the space is freed when the last descriptor closes (QEMU's, if it is still writing). The
/// finished file gets its name with linkat, which fails rather than replace anything, and the directory is fsynced.
/// Where the file system refuses O_TMPFILE, temporaries are hidden named files (O_EXCL|O_NOFOLLOW), removed on
/// failure, cancellation and the signals the CLI handles; any that a SIGKILL left are reported by the next run.
/// Destinations that are not regular files (FIFOs, devices, symlinks) are refused, with or without -Force.
/// </summary>
public sealed class DumpOutputFile : IDisposable
{
    private const string TemporarySuffix = ".partial";
    private readonly List<Temporary> _temporaries = [];

    private sealed record Temporary(FileStream Stream, string? Name)
    {
        /// <summary>A path that opens this file for reading, named or not.</summary>
        public string ReadPath => Name ?? $"/proc/self/fd/{Stream.SafeFileHandle.DangerousGetHandle()}";
    }

    private DumpOutputFile(string path, bool force, IReadOnlyList<string> stale)
    {
        Path = path;
        Force = force;
        Directory = System.IO.Path.GetDirectoryName(path)!;
        StaleTemporaries = stale;
    }

    public string Path { get; }
    public string Directory { get; }
    public bool Force { get; }

    /// <summary>Hidden temporaries of this destination that an interrupted earlier run left (only where O_TMPFILE is refused).</summary>
    public IReadOnlyList<string> StaleTemporaries { get; }

    /// <summary>Checks the destination before any guest is paused: parent directory, existing file, -Force.</summary>
    public static DumpOutputFile Prepare(string path, bool force)
    {
        var full = System.IO.Path.GetFullPath(path);
        var directory = System.IO.Path.GetDirectoryName(full)!;
        if (!System.IO.Directory.Exists(directory))
        {
            throw new VmDebugException("DumpDirectoryNotFound", ErrorKind.ObjectNotFound,
                $"Cannot write the dump to '{full}': the directory '{directory}' does not exist.", directory);
        }

        CheckDestination(full, force);
        return new DumpOutputFile(full, force, FindStale(directory, System.IO.Path.GetFileName(full)));
    }

    /// <summary>The warning a result carries when earlier runs left temporaries behind, or null.</summary>
    public string? StaleWarning => StaleTemporaries.Count == 0
        ? null
        : $"Interrupted earlier runs left {StaleTemporaries.Count} hidden temporary file(s) beside '{Path}' "
            + $"({Units.FormatBytes(StaleTemporaries.Sum(SizeOf))}): {string.Join(", ", StaleTemporaries.Select(KmsgText.EscapeForDisplay))}. "
            + "Remove them if no VmDebug run is using them.";

    private static void CheckDestination(string full, bool force)
    {
        if (UnixFile.LStat(full) is not { } existing)
        {
            return;
        }
        if (existing.IsDirectory)
        {
            throw new VmDebugException("DumpPathIsDirectory", ErrorKind.InvalidArgument,
                $"Cannot write the dump to '{full}': it is a directory. Give a file name.", full);
        }
        if (!existing.IsRegular)
        {
            // Writing through a FIFO or device (as makedumpfile would) or replacing it (as rename would) are both
            // surprises for a dump; -Force as root must not turn /dev/null into a regular file.
            throw new VmDebugException("DumpPathNotRegularFile", ErrorKind.InvalidArgument,
                $"Cannot write the dump to '{full}': it is a {existing.TypeName}. Dumps are written only as new regular files.", full)
            {
                Remedy = new Remedy("{0} replaces only a regular file; remove it or choose another path.", RemedyTerm.Of(RemedyParameter.Force)),
            };
        }
        if (!force)
        {
            throw new VmDebugException("DumpFileExists", ErrorKind.ResourceExists, $"'{full}' already exists; it was left untouched.", full)
            {
                Remedy = ReplaceRemedy,
            };
        }
    }

    /// <summary>Creates a new temporary file beside the destination, 0600, owned by the caller; this object owns the stream.</summary>
    public FileStream CreateTemporary(string purpose)
    {
        var handle = UnixFile.Open(Directory, UnixFile.OTmpFile | UnixFile.ORdWr, 0x180, out var errno);
        string? name = null;
        if (errno is UnixFile.EOpNotSupp or UnixFile.EIsDir or UnixFile.EInval)
        {
            handle.Dispose();
            name = TemporaryName(purpose);
            handle = UnixFile.Open(name, UnixFile.ORdWr | UnixFile.OCreat | UnixFile.OExcl | UnixFile.ONoFollow, 0x180, out errno);
        }
        if (errno != 0)
        {
            handle.Dispose();
            throw errno is UnixFile.EAcces or UnixFile.EPerm
                ? new VmDebugException("DumpDirectoryNotWritable", ErrorKind.PermissionDenied,
                    $"Cannot create the dump '{Path}': permission denied in '{Directory}'.", Directory)
                : new VmDebugException("DumpFileNotCreated", ErrorKind.WriteError,
                    $"Cannot create the dump '{Path}' in '{Directory}': {UnixFile.ErrorText(errno)}.", Path);
        }
        var stream = new FileStream(handle, FileAccess.ReadWrite, bufferSize: 0);
        _temporaries.Add(new Temporary(stream, name));
        return stream;
    }

    /// <summary>
    /// A failure that names one of the temporaries (an I/O error, or an engine error about the file being written or
    /// read), told again under the destination's name: the temporary names (and /proc/self/fd paths) are VmDebug's
    /// business, and the files are removed anyway. Null when <paramref name="e"/> names none; use it as
    /// <c>catch (Exception e) when (output.Retell(e) is { } retold) { throw retold; }</c>.
    /// </summary>
    public VmDebugException? Retell(Exception e)
    {
        var engine = e as VmDebugException;
        var names = _temporaries.Select(t => t.ReadPath).ToList();
        if (!names.Any(n => e.Message.Contains(n, StringComparison.Ordinal) || Equals(engine?.Target, n)))
        {
            return null;
        }

        var message = names.Aggregate(e.Message, (text, n) => text.Replace(n, $"{Path} (unfinished)", StringComparison.Ordinal));
        var retoldTarget = engine?.Target is string target && names.Contains(target) ? Path : engine?.Target ?? Path;
        return e switch
        {
            // libvirt's codes stay, so scripts can still match them.
            Libvirt.LibvirtException libvirt => new Libvirt.LibvirtException(libvirt.ErrorId, libvirt.Kind, message, retoldTarget,
                libvirt.LibvirtCode, libvirt.LibvirtErrorDomain, libvirt.LibvirtMessage, e)
            {
                Remedy = libvirt.Remedy,
            },
            IOException io => new VmDebugException("DumpWriteFailed", ErrorKind.WriteError,
                $"Writing '{Path}' failed: {Reason(io)}; nothing was left behind.", Path, io),
            UnauthorizedAccessException => new VmDebugException("DumpDirectoryNotWritable", ErrorKind.PermissionDenied,
                $"Cannot write '{Path}': permission denied.", Path, e),
            _ => new VmDebugException(engine?.ErrorId ?? "DumpFailed", engine?.Kind ?? ErrorKind.WriteError, message, retoldTarget, e)
            {
                Remedy = engine?.Remedy,
            },
        };
    }

    private static readonly Remedy ReplaceRemedy = new("Use {0} to replace it.", RemedyTerm.Of(RemedyParameter.Force));

    /// <summary>The OS's reason (strerror) without the path .NET puts in its messages, which would be a temporary name.</summary>
    private static string Reason(IOException e) =>
        e.HResult is > 0 and < 4096 ? System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(e.HResult) : e.GetType().Name;

    /// <summary>A path that opens <paramref name="temporary"/> for reading (it may have no name of its own).</summary>
    public string ReadPathOf(FileStream temporary) => Find(temporary).ReadPath;

    /// <summary>A temporary path for a writer that opens the file itself (libvirt); removed with the others.</summary>
    public string ReserveTemporaryPath(string purpose)
    {
        var name = TemporaryName(purpose);
        _temporaries.Add(new Temporary(null!, name));
        return name;
    }

    /// <summary>Closes and removes one temporary now.</summary>
    public void Discard(FileStream temporary)
    {
        var entry = Find(temporary);
        Remove(entry);
        _temporaries.Remove(entry);
    }

    /// <summary>Closes and removes a temporary reserved by path.</summary>
    public void Discard(string reservedPath)
    {
        foreach (var entry in _temporaries.Where(t => t.Name == reservedPath).ToList())
        {
            Remove(entry);
            _temporaries.Remove(entry);
        }
    }

    /// <summary>
    /// Gives the finished temporary its final name. Without Force nothing is ever replaced, even a file that
    /// appeared meanwhile (linkat and renameat2(RENAME_NOREPLACE) fail with EEXIST); with Force only a regular
    /// file is replaced, atomically. The directory is fsynced so the name survives a crash.
    /// </summary>
    public void Commit(FileStream temporary)
    {
        var entry = Find(temporary);
        entry.Stream.Flush(flushToDisk: true);
        int errno;
        if (entry.Name is null)
        {
            errno = UnixFile.LinkDescriptor(entry.Stream.SafeFileHandle, Path);
            if (errno == UnixFile.EExist && Force)
            {
                // Link under a fresh hidden name, then rename over the destination: replacing is atomic, and a
                // symlink or FIFO put there meanwhile is refused, not written through.
                CheckDestination(Path, Force);
                var staging = TemporaryName("commit");
                errno = UnixFile.LinkDescriptor(entry.Stream.SafeFileHandle, staging);
                if (errno == 0)
                {
                    errno = UnixFile.Rename(staging, Path);
                    if (errno != 0)
                    {
                        UnixFile.Unlink(staging);
                    }
                }
            }
        }
        else
        {
            if (Force)
            {
                CheckDestination(Path, Force);
            }
            errno = Force ? UnixFile.Rename(entry.Name, Path) : UnixFile.RenameNoReplace(entry.Name, Path);
        }

        if (errno == UnixFile.EExist)
        {
            throw new VmDebugException("DumpFileExists", ErrorKind.ResourceExists,
                $"'{Path}' appeared while dumping; it was left untouched and the dump discarded.", Path)
            {
                Remedy = ReplaceRemedy,
            };
        }
        if (errno != 0)
        {
            throw new VmDebugException("DumpFileNotCreated", ErrorKind.WriteError,
                $"Cannot give the dump its name '{Path}': {UnixFile.ErrorText(errno)}. The dump was discarded.", Path);
        }

        _temporaries.Remove(entry);
        entry.Stream.Dispose();
        UnixFile.SyncDirectory(Directory);
    }

    /// <summary>Removes every temporary still around: the partial dumps of a failed or cancelled run.</summary>
    public void Dispose()
    {
        foreach (var temporary in _temporaries)
        {
            Remove(temporary);
        }

        _temporaries.Clear();
    }

    private static void Remove(Temporary temporary)
    {
        temporary.Stream?.Dispose();
        if (temporary.Name is { } name)
        {
            // Failing to delete can only have reasons the caller already reports (a root-owned file libvirt left).
            UnixFile.Unlink(name);
        }
    }

    private Temporary Find(FileStream stream) =>
        _temporaries.FirstOrDefault(t => ReferenceEquals(t.Stream, stream))
        ?? throw new ArgumentException("not a temporary of this dump", nameof(stream));

    private string TemporaryName(string purpose) =>
        System.IO.Path.Combine(Directory, $".{System.IO.Path.GetFileName(Path)}.{purpose}-{Guid.NewGuid():N}{TemporarySuffix}");

    private static IReadOnlyList<string> FindStale(string directory, string fileName)
    {
        try
        {
            return System.IO.Directory.EnumerateFiles(directory, $".{fileName}.*{TemporarySuffix}").Order(StringComparer.Ordinal).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static long SizeOf(string path) => UnixFile.LStat(path)?.Size ?? 0;
}
