namespace VmDebug.Engine.Dump;

/// <summary>
/// The destination of a dump. Nothing is written at <see cref="Path"/> until the dump is complete and repaired:
/// work happens in hidden temporary files beside it (same file system, so the final rename is atomic), created
/// exclusively with mode 0600 (O_CREAT|O_EXCL never follows a symlink), and removed on failure or cancellation.
/// </summary>
public sealed class DumpOutputFile : IDisposable
{
    private readonly List<string> _temporaries = [];

    private DumpOutputFile(string path, bool force)
    {
        Path = path;
        Force = force;
        Directory = System.IO.Path.GetDirectoryName(path)!;
    }

    public string Path { get; }
    public string Directory { get; }
    public bool Force { get; }

    /// <summary>Checks the destination before any guest is paused: parent directory, existing file, -Force.</summary>
    public static DumpOutputFile Prepare(string path, bool force)
    {
        var full = System.IO.Path.GetFullPath(path);
        var output = new DumpOutputFile(full, force);
        if (!System.IO.Directory.Exists(output.Directory))
        {
            throw new VmDebugException("DumpDirectoryNotFound", ErrorKind.ObjectNotFound,
                $"Cannot write the dump to '{full}': the directory '{output.Directory}' does not exist.", output.Directory);
        }

        if (System.IO.Directory.Exists(full))
        {
            throw new VmDebugException("DumpPathIsDirectory", ErrorKind.InvalidArgument,
                $"Cannot write the dump to '{full}': it is a directory. Give a file name.", full);
        }

        var existing = new FileInfo(full);
        if ((existing.Exists || existing.LinkTarget is not null) && !force)
        {
            throw new VmDebugException("DumpFileExists", ErrorKind.ResourceExists, $"'{full}' already exists; it was left untouched.", full)
            {
                Remedy = ReplaceRemedy,
            };
        }

        return output;
    }

    /// <summary>Creates a new hidden temporary file beside the destination, 0600, owned by the caller.</summary>
    public FileStream CreateTemporary(string purpose)
    {
        var name = System.IO.Path.Combine(Directory, $".{System.IO.Path.GetFileName(Path)}.{purpose}-{Guid.NewGuid():N}.partial");
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.Read,
            BufferSize = 0,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        try
        {
            var stream = new FileStream(name, options);
            _temporaries.Add(name);
            return stream;
        }
        catch (UnauthorizedAccessException e)
        {
            throw new VmDebugException("DumpDirectoryNotWritable", ErrorKind.PermissionDenied,
                $"Cannot create the dump in '{Directory}': permission denied.", Directory, e);
        }
        catch (IOException e)
        {
            throw new VmDebugException("DumpFileNotCreated", ErrorKind.WriteError,
                $"Cannot create '{Path}': {Reason(e)}.", Path, e);
        }
    }

    /// <summary>
    /// A failure that names one of the temporaries (an I/O error, or an engine error about the file being written or
    /// read), told again under the destination's name: the temporary names are VmDebug's business, and the files are
    /// removed anyway. Null when <paramref name="e"/> names none; use it as
    /// <c>catch (Exception e) when (output.Retell(e) is { } retold) { throw retold; }</c>.
    /// </summary>
    public VmDebugException? Retell(Exception e)
    {
        var engine = e as VmDebugException;
        if (!_temporaries.Any(t => e.Message.Contains(t, StringComparison.Ordinal) || Equals(engine?.Target, t)))
        {
            return null;
        }

        return e switch
        {
            IOException io => new VmDebugException("DumpWriteFailed", ErrorKind.WriteError,
                $"Writing '{Path}' failed: {Reason(io)}; nothing was left behind.", Path, io),
            UnauthorizedAccessException => new VmDebugException("DumpDirectoryNotWritable", ErrorKind.PermissionDenied,
                $"Cannot write '{Path}': permission denied.", Path, e),
            _ => new VmDebugException(engine?.ErrorId ?? "DumpFailed", engine?.Kind ?? ErrorKind.WriteError,
                _temporaries.Aggregate(e.Message, (text, t) => text.Replace(t, $"{Path} (unfinished)", StringComparison.Ordinal)),
                engine?.Target is string target && _temporaries.Contains(target) ? Path : engine?.Target ?? Path, e)
            {
                Remedy = engine?.Remedy,
            },
        };
    }

    private static readonly Remedy ReplaceRemedy = new("Use {0} to replace it.", RemedyTerm.Of(RemedyParameter.Force));

    /// <summary>The OS's reason (strerror) without the path .NET puts in its messages, which would be a temporary name.</summary>
    private static string Reason(IOException e) =>
        e.HResult is > 0 and < 4096 ? System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(e.HResult) : e.GetType().Name;

    /// <summary>A temporary path for a writer that opens the file itself (libvirt); removed with the others.</summary>
    public string ReserveTemporaryPath(string purpose)
    {
        var name = System.IO.Path.Combine(Directory, $".{System.IO.Path.GetFileName(Path)}.{purpose}-{Guid.NewGuid():N}.partial");
        _temporaries.Add(name);
        return name;
    }

    /// <summary>Gives the finished temporary file its final name: without Force never replacing anything, even in a race.</summary>
    public void Commit(string temporary)
    {
        try
        {
            // overwrite:false links then unlinks, so a file that appeared meanwhile is not replaced.
            File.Move(temporary, Path, overwrite: Force);
        }
        catch (IOException e) when (File.Exists(Path) && !Force)
        {
            throw new VmDebugException("DumpFileExists", ErrorKind.ResourceExists,
                $"'{Path}' appeared while dumping; it was left untouched and the dump discarded.", Path, e)
            {
                Remedy = ReplaceRemedy,
            };
        }

        _temporaries.Remove(temporary);
    }

    /// <summary>Removes every temporary file still around: the partial dumps of a failed or cancelled run.</summary>
    public void Dispose()
    {
        foreach (var temporary in _temporaries)
        {
            try
            {
                File.Delete(temporary);
            }
            catch (IOException)
            {
                // Deleting can only fail for reasons the caller already reports.
            }
            catch (UnauthorizedAccessException)
            {
                // Likewise (a root-owned file libvirt left in a directory we may not write).
            }
        }

        _temporaries.Clear();
    }
}
