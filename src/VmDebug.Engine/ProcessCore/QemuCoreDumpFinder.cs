namespace VmDebug.Engine.ProcessCore;

/// <summary>
/// Get-QemuCoreDump / vmdebug cores: QEMU process cores in files and directories, systemd-coredump's store among
/// them (by its file names; coredumpctl is not needed), with what they hold. A named file that is not a QEMU core,
/// and a path that does not exist, is an error of its own; the other paths are still listed.
/// </summary>
public static class QemuCoreDumpFinder
{
    private const int MaxFiles = 100_000;
    private const int MaxDepth = 16;

    public static Task<QemuCoreDumpListing> FindAsync(QemuCoreDumpQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var cores = new List<VmDebug.QemuProcessCore>();
        var errors = new List<VmDebugException>();
        foreach (var path in query.Paths)
        {
            var full = Path.GetFullPath(path);
            if (File.Exists(full))
            {
                try
                {
                    cores.Add(Inspect(full, cancellationToken) ?? throw NotQemu(full));
                }
                catch (VmDebugException e)
                {
                    errors.Add(e);
                }
            }
            else if (Directory.Exists(full))
            {
                cores.AddRange(InspectDirectory(full, query.Recurse, cancellationToken));
            }
            else
            {
                errors.Add(new VmDebugException("CorePathNotFound", ErrorKind.ObjectNotFound, $"'{full}' is neither a core file nor a directory.", full));
            }
        }
        if (query.IncludeSystemdCoredump && Directory.Exists(query.SystemdCoredumpDirectory)
            && !query.Paths.Any(p => Path.GetFullPath(p).TrimEnd('/') == query.SystemdCoredumpDirectory.TrimEnd('/')))
        {
            cores.AddRange(InspectDirectory(query.SystemdCoredumpDirectory, recurse: false, cancellationToken));
        }
        return Task.FromResult(new QemuCoreDumpListing
        {
            Cores = cores.OrderBy(c => c.Time ?? DateTimeOffset.MinValue).ToList(),
            Errors = errors,
        });
    }

    private static ProcessCoreException NotQemu(string path) =>
        new(ProcessCoreException.NotACore, ErrorKind.InvalidArgument, path, "not a QEMU process core (not an ELF core file of qemu-system-* or qemu-kvm).");

    /// <summary>The QEMU cores in a directory; other files are passed over without a word.</summary>
    private static IEnumerable<VmDebug.QemuProcessCore> InspectDirectory(string directory, bool recurse, CancellationToken cancellationToken)
    {
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = recurse,
            MaxRecursionDepth = MaxDepth,
            IgnoreInaccessible = true,
            AttributesToSkip = FileAttributes.ReparsePoint,
        };
        var examined = 0;
        foreach (var file in Directory.EnumerateFiles(directory, "*", options))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (++examined > MaxFiles)
            {
                yield break;
            }
            var name = SystemdCoreFileName.TryParse(Path.GetFileName(file));
            if (name is { IsQemu: false })
            {
                continue; // systemd-coredump's core of another program: no need to open it
            }
            VmDebug.QemuProcessCore? core;
            try
            {
                core = Inspect(file, cancellationToken);
            }
            catch (VmDebugException)
            {
                core = null;
            }
            if (core is not null)
            {
                yield return core;
            }
        }
    }

    /// <summary>
    /// A QEMU process core's facts, or null when the file is not a process core of QEMU. Throws for a vmcore (which
    /// needs no extraction) and for a compressed file that cannot be decompressed.
    /// </summary>
    internal static VmDebug.QemuProcessCore? Inspect(string path, CancellationToken cancellationToken)
    {
        var name = SystemdCoreFileName.TryParse(Path.GetFileName(path));
        var compression = HeadOf(path) is { } head ? CompressedCoreFile.FormatOf(head) : null;
        if (compression is null && !LooksLikeCore(path))
        {
            return null;
        }
        using var core = compression is { } format
            ? ProcessCoreFile.Open(CompressedCoreFile.OpenHeaders(path, format, cancellationToken))
            : ProcessCoreFile.Open(path, cancellationToken);
        if (!QemuCoreAnalysis.IsQemu(core))
        {
            return null;
        }
        var time = name?.Time ?? new DateTimeOffset(File.GetLastWriteTimeUtc(path));
        var parsed = core.Arguments is { } a ? QemuCommandLine.Parse(a) : null;
        string? problem = null;
        bool? includesRam = null;
        if (compression is not null)
        {
            includesRam = GuestRamDumped(core);
            if (includesRam == false)
            {
                problem = "no guest RAM (dump-guest-core=off)";
            }
        }
        else if (core.File.Length < core.ExpectedLength)
        {
            problem = $"truncated: {core.File.Length} of {core.ExpectedLength} bytes";
        }
        else
        {
            try
            {
                var analysis = QemuCoreAnalysis.Analyze(core, null);
                includesRam = analysis.IncludesGuestRam;
                if (!analysis.IncludesGuestRam)
                {
                    problem = "no guest RAM (dump-guest-core=off)";
                }
            }
            catch (ProcessCoreException e)
            {
                problem = $"{e.ErrorId}: {e.Message[(path.Length + 2)..]}";
            }
        }
        return new VmDebug.QemuProcessCore
        {
            Path = path,
            Pid = name?.Pid ?? core.Pid,
            Uid = name?.Uid,
            BootId = name?.BootId,
            Compression = compression ?? VmDebug.CoreFileCompression.None,
            Time = time,
            Signal = core.Signal,
            CommandLine = core.Arguments is { } args ? JoinCommandLine(args) : core.PsArgs,
            MachineType = parsed is null ? null : parsed.MachineType ?? "pc",
            GuestRamBytes = parsed?.RamBytes,
            IncludesGuestRam = includesRam,
            Source = name is null ? VmDebug.QemuCoreSource.File : VmDebug.QemuCoreSource.SystemdCoredump,
            Problem = problem,
        };
    }

    /// <summary>
    /// From the program headers alone: guest RAM is a big (64 MiB or more) read-write, non-executable mapping, dumped
    /// with all its bytes under dump-guest-core=on and with none (MADV_DONTDUMP) under off. TCG's code buffer is
    /// executable; thread stacks and malloc arenas stay below that size.
    /// </summary>
    private static bool? GuestRamDumped(ProcessCoreFile core)
    {
        var big = core.Segments.Where(s => s.IsReadWrite && (s.Flags & CoreSegment.Execute) == 0 && s.MemorySize >= 64UL << 20).ToList();
        if (big.Count == 0)
        {
            return null;
        }
        return big.Any(s => s.FileSize == s.MemorySize);
    }

    private static byte[]? HeadOf(string path)
    {
        try
        {
            // Regular files only, opened without blocking: core directories are often writable by the QEMU user.
            using var handle = Files.ReadOnlyFile.TryOpenRegular(path);
            if (handle is null)
            {
                return null;
            }
            var head = new byte[18];
            var n = RandomAccess.Read(handle, head, 0);
            return head[..n];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>An ELF core (ELF64, little-endian, ET_CORE), or a vmcore, which opening then names as such.</summary>
    private static bool LooksLikeCore(string path)
    {
        if (HeadOf(path) is not { Length: 18 } head)
        {
            return false;
        }
        return head.AsSpan().StartsWith("KDUMP   "u8) || head.AsSpan().StartsWith("makedumpfile"u8)
            || (head.AsSpan().StartsWith("\u007fELF"u8) && head[4] == 2 && head[5] == 1 && head[16] == 4 && head[17] == 0);
    }

    /// <summary>argv as a shell would need it typed: arguments with spaces or quotes single-quoted.</summary>
    internal static string JoinCommandLine(IEnumerable<string> arguments) =>
        string.Join(' ', arguments.Select(a => a.Length > 0 && a.All(c => char.IsAsciiLetterOrDigit(c) || "-_=,./:@+%".Contains(c))
            ? a
            : "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'"));
}
