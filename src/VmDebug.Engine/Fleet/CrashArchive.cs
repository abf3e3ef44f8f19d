using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using VmDebug.Engine.Files;

namespace VmDebug.Engine.Fleet;

/// <summary>
/// The on-disk crash archive: <c>ROOT/&lt;guest&gt;/&lt;UTC yyyyMMddTHHmmssZ&gt;/</c> holding the dump, crash.json (schemaVersion 1),
/// dmesg.txt, vmcoreinfo.txt, domain.xml and qemu.txt; <c>ROOT/.build-id/&lt;id&gt;/vmlinux</c> caches vmlinux files.
/// A crash is built in a hidden <c>.partial-…</c> folder and renamed to its final name only when complete, so a
/// reader never sees half a crash and a killed watcher leaves only hidden folders, which the next one removes.
/// </summary>
public sealed class CrashArchive
{
    public const string CrashFile = "crash.json";
    public const string BuildIdDirectory = ".build-id";
    private const string PartialPrefix = ".partial-";
    private const int MaxCrashJsonBytes = 1 << 20;

    public CrashArchive(string root)
    {
        Root = System.IO.Path.GetFullPath(root);
    }

    public string Root { get; }

    /// <summary>Creates the root (mode 0700) when missing; refuses a symlink or a file in its place.</summary>
    public void EnsureRoot()
    {
        var status = UnixFile.LStat(Root);
        if (status is null)
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Root)!);
            var error = UnixFile.MakeDirectory(Root, 0x1c0);
            if (error != 0 && error != UnixFile.EExist)
            {
                throw new VmDebugException("ArchiveCreateFailed", ErrorKind.WriteError,
                    $"Cannot create the crash archive '{Root}': {UnixFile.ErrorText(error)}.", Root);
            }
        }
        else if (!status.Value.IsDirectory)
        {
            throw new VmDebugException("ArchiveNotDirectory", ErrorKind.InvalidArgument,
                $"The crash archive '{Root}' is a {status.Value.TypeName}, not a directory (symlinks are not followed).", Root);
        }
    }

    /// <summary>A guest name made safe as one folder name: no separators or control characters, not hidden, at most 64 chars.</summary>
    public static string FolderNameOf(string guest)
    {
        var safe = new string(guest.Select(c => c == '/' || char.IsControl(c) ? '_' : c).Take(64).ToArray());
        return safe.Length == 0 || safe.StartsWith('.') ? "guest" + safe : safe;
    }

    public static string StampOf(DateTimeOffset panicTime) =>
        panicTime.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    /// <summary>A new hidden folder for a crash being captured.</summary>
    public string CreatePartial(string guest, DateTimeOffset panicTime)
    {
        var guestDirectory = System.IO.Path.Combine(Root, FolderNameOf(guest));
        MakePrivateDirectory(guestDirectory, allowExisting: true);
        var partial = System.IO.Path.Combine(guestDirectory,
            $"{PartialPrefix}{StampOf(panicTime)}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        MakePrivateDirectory(partial, allowExisting: false);
        return partial;
    }

    /// <summary>Gives a complete crash folder its final name (a -2, -3… suffix when the second is taken) and returns it.</summary>
    public string Commit(string partial, DateTimeOffset panicTime)
    {
        var guestDirectory = System.IO.Path.GetDirectoryName(partial)!;
        var stamp = StampOf(panicTime);
        for (var attempt = 1; attempt < 1000; attempt++)
        {
            var final = System.IO.Path.Combine(guestDirectory, attempt == 1 ? stamp : $"{stamp}-{attempt}");
            var error = UnixFile.RenameNoReplace(partial, final);
            if (error == 0)
            {
                UnixFile.SyncDirectory(guestDirectory);
                return final;
            }
            if (error != UnixFile.EExist && error != 39 /* ENOTEMPTY */)
            {
                throw new VmDebugException("ArchiveCommitFailed", ErrorKind.WriteError,
                    $"Cannot rename the finished crash '{partial}' to '{final}': {UnixFile.ErrorText(error)}.", partial);
            }
        }
        throw new VmDebugException("ArchiveCommitFailed", ErrorKind.ResourceExists,
            $"Every name for a crash of {stamp} under '{guestDirectory}' is taken.", partial);
    }

    /// <summary>Removes a partial folder (a capture that failed or was cancelled).</summary>
    public static void Discard(string partial)
    {
        if (Directory.Exists(partial))
        {
            Directory.Delete(partial, recursive: true);
        }
    }

    /// <summary>Removes the partial folders a killed watcher left; returns their paths.</summary>
    public IReadOnlyList<string> RemoveStalePartials()
    {
        var removed = new List<string>();
        foreach (var guestDirectory in GuestDirectories())
        {
            foreach (var partial in Directory.EnumerateDirectories(guestDirectory, PartialPrefix + "*"))
            {
                // Another watcher's capture in progress carries its live PID.
                if (PartialOwnerAlive(partial))
                {
                    continue;
                }
                Discard(partial);
                removed.Add(partial);
            }
        }
        return removed;
    }

    private static bool PartialOwnerAlive(string partial)
    {
        var parts = System.IO.Path.GetFileName(partial)[PartialPrefix.Length..].Split('-');
        return parts.Length >= 3 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            && pid != Environment.ProcessId && Directory.Exists($"/proc/{pid}");
    }

    /// <summary>
    /// The time given to --after: ISO 8601 (2026-12-01T14:00:00Z, 2026-12-01T15:00+01:00, 2026-12-01), UTC unless it
    /// carries an offset, as the archive's folder names and crash.json are.
    /// </summary>
    /// <exception cref="VmDebugException">CrashTimeInvalid (InvalidArgument), naming the text.</exception>
    public static DateTimeOffset ParseTime(string text, string option = "--after")
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length <= 64 && DateTimeOffset.TryParse(text.Trim(), CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var time))
        {
            return time;
        }
        throw new VmDebugException("CrashTimeInvalid", ErrorKind.InvalidArgument,
            $"'{KmsgText.EscapeForDisplay(text.Length <= 64 ? text : text[..64] + "...")}' given to {option} is not a date and time: " +
            "use ISO 8601, e.g. 2026-12-01T14:00:00Z or 2026-12-01 (UTC unless an offset such as +01:00 is given).", text);
    }

    /// <summary>The crashes a user asked to list: as <see cref="List"/>, but a missing archive is an error, since an
    /// empty list would read as "no crashes" when the directory was mistyped.</summary>
    /// <exception cref="VmDebugException">ArchiveNotFound (ObjectNotFound), naming the directory.</exception>
    public IReadOnlyList<GuestCrash> ListExisting(string? guest, DateTimeOffset? after, ICollection<string> problems) =>
        Directory.Exists(Root)
            ? List(guest, after, problems)
            : throw new VmDebugException("ArchiveNotFound", ErrorKind.ObjectNotFound, $"The crash archive '{Root}' does not exist.", Root);

    /// <summary>Every archived crash (folders with a readable crash.json), oldest first; <paramref name="problems"/> gets the unreadable ones.</summary>
    public IReadOnlyList<GuestCrash> List(string? guest = null, DateTimeOffset? after = null, ICollection<string>? problems = null)
    {
        var crashes = new List<GuestCrash>();
        if (!Directory.Exists(Root))
        {
            return crashes;
        }
        foreach (var guestDirectory in GuestDirectories())
        {
            foreach (var folder in Directory.EnumerateDirectories(guestDirectory))
            {
                if (System.IO.Path.GetFileName(folder).StartsWith('.') || new DirectoryInfo(folder).LinkTarget is not null)
                {
                    continue;
                }
                try
                {
                    var crash = Read(folder);
                    if ((guest is null || string.Equals(crash.Guest, guest, StringComparison.Ordinal))
                        && (after is null || crash.PanicTime > after))
                    {
                        crashes.Add(crash);
                    }
                }
                catch (Exception e) when (e is VmDebugException or IOException or UnauthorizedAccessException)
                {
                    problems?.Add(e.Message);
                }
            }
        }
        return [.. crashes.OrderBy(c => c.PanicTime).ThenBy(c => c.Path, StringComparer.Ordinal)];
    }

    private IEnumerable<string> GuestDirectories() =>
        Directory.Exists(Root)
            ? Directory.EnumerateDirectories(Root).Where(d => !System.IO.Path.GetFileName(d).StartsWith('.') && new DirectoryInfo(d).LinkTarget is null)
            : [];

    /// <summary>Bytes of every file under the root (build-id cache and partial folders included), symlinks not followed.</summary>
    public long TotalBytes() => Directory.Exists(Root) ? FolderBytes(Root) : 0;

    public static long FolderBytes(string folder)
    {
        long total = 0;
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
        foreach (var file in new DirectoryInfo(folder).EnumerateFiles("*", options))
        {
            total += file.Length;
        }
        return total;
    }

    /// <summary>Deletes one archived crash; refuses a folder that is no crash of this archive.</summary>
    public void Remove(string folder)
    {
        var full = System.IO.Path.GetFullPath(folder);
        var guestDirectory = System.IO.Path.GetDirectoryName(full);
        if (guestDirectory is null || System.IO.Path.GetDirectoryName(guestDirectory) != Root)
        {
            throw new VmDebugException("CrashNotInArchive", ErrorKind.InvalidArgument,
                $"'{full}' is not a crash folder of the archive '{Root}' (expected {Root}/<guest>/<time>).", full);
        }
        RemoveCrashFolder(full);
    }

    /// <summary>Deletes a crash folder found anywhere (Remove-GuestCrash -LiteralPath); it must hold a crash.json.</summary>
    public static void RemoveCrashFolder(string folder)
    {
        var status = UnixFile.LStat(folder);
        if (status is not { IsDirectory: true } || !File.Exists(System.IO.Path.Combine(folder, CrashFile)))
        {
            throw new VmDebugException("CrashFolderInvalid", ErrorKind.ObjectNotFound,
                $"'{folder}' is not an archived crash: no directory with a {CrashFile} (symlinks are not followed).", folder);
        }
        Directory.Delete(folder, recursive: true);
    }

    /// <summary>Reads one crash folder's crash.json.</summary>
    public static GuestCrash Read(string folder)
    {
        var path = System.IO.Path.Combine(folder, CrashFile);
        var info = new FileInfo(path);
        if (!info.Exists || info.LinkTarget is not null)
        {
            throw new VmDebugException("CrashJsonMissing", ErrorKind.ObjectNotFound, $"'{folder}' holds no {CrashFile}.", folder);
        }
        if (info.Length > MaxCrashJsonBytes)
        {
            throw new VmDebugException("CrashJsonTooLarge", ErrorKind.InvalidData,
                $"'{path}' has {info.Length} bytes; a crash.json has at most {MaxCrashJsonBytes}.", path);
        }
        JsonObject json;
        JsonNode? version;
        try
        {
            json = JsonNode.Parse(File.ReadAllBytes(path)) as JsonObject ?? throw new JsonException("not an object");
            // The object's members are indexed on first access: a name given twice surfaces here.
            version = json["schemaVersion"];
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new VmDebugException("CrashJsonInvalid", ErrorKind.InvalidData, $"'{path}' is not valid crash JSON: {e.Message}", path, e);
        }
        if (version is not JsonValue value || !value.TryGetValue<int>(out var number) || number != 1)
        {
            var shown = version?.ToJsonString() ?? "(none)";
            throw new VmDebugException("CrashJsonVersionUnknown", ErrorKind.InvalidData,
                $"'{path}' has schemaVersion {(shown.Length > 40 ? shown[..40] + "…" : shown)}; this VmDebug reads 1.", path);
        }
        try
        {
            var full = System.IO.Path.GetFullPath(folder);
            return new GuestCrash
            {
                Guest = json["guest"]!.GetValue<string>(),
                Host = json["host"]?.GetValue<string>() ?? "",
                PanicKind = json["panicKind"]?.GetValue<string>() ?? "",
                PanicTime = DateTimeOffset.Parse(json["panicTime"]!.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
                CaptureSeconds = json["captureSeconds"]?.GetValue<double>() ?? 0,
                QemuVersion = json["qemuVersion"]?.GetValue<string>(),
                KernelRelease = json["kernelRelease"]?.GetValue<string>(),
                BuildId = json["buildId"]?.GetValue<string>(),
                PanicMessage = json["panicMessage"]?.GetValue<string>(),
                CrashingTask = json["crashingTask"]?.GetValue<string>(),
                DumpFile = json["dumpFile"]!.GetValue<string>(),
                DumpFormat = Dump.DumpFormats.Parse(json["dumpFormat"]!.GetValue<string>()),
                DumpLevel = json["dumpLevel"]?.GetValue<int>() ?? 0,
                DumpBytes = json["dumpBytes"]?.GetValue<long>() ?? 0,
                GuestRamBytes = json["guestRamBytes"]?.GetValue<ulong>() ?? 0,
                Vmlinux = json["vmlinux"]?.GetValue<string>(),
                SuppressedCrashes = json["suppressedCrashes"]?.GetValue<int>() ?? 0,
                Warnings = json["warnings"] is JsonArray warnings ? [.. warnings.Select(w => w?.GetValue<string>() ?? "")] : [],
                Path = full,
                ArchivePath = System.IO.Path.GetDirectoryName(System.IO.Path.GetDirectoryName(full))!,
            };
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException or NullReferenceException or VmDebugException)
        {
            throw new VmDebugException("CrashJsonInvalid", ErrorKind.InvalidData, $"'{path}' lacks or mistypes a crash.json field: {e.Message}", path, e);
        }
    }

    /// <summary>crash.json as written: camelCase, schemaVersion 1, every field present (null when unknown).</summary>
    public static string ToJson(GuestCrash crash) => new JsonObject
    {
        ["schemaVersion"] = 1,
        ["guest"] = crash.Guest,
        ["host"] = crash.Host,
        ["panicKind"] = crash.PanicKind,
        ["panicTime"] = crash.PanicTime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
        ["captureSeconds"] = Math.Round(crash.CaptureSeconds, 3),
        ["qemuVersion"] = crash.QemuVersion,
        ["kernelRelease"] = crash.KernelRelease,
        ["buildId"] = crash.BuildId,
        ["panicMessage"] = crash.PanicMessage,
        ["crashingTask"] = crash.CrashingTask,
        ["dumpFile"] = crash.DumpFile,
        ["dumpFormat"] = Dump.DumpFormats.QmpName(crash.DumpFormat),
        ["dumpLevel"] = crash.DumpLevel,
        ["dumpBytes"] = crash.DumpBytes,
        ["guestRamBytes"] = crash.GuestRamBytes,
        ["vmlinux"] = crash.Vmlinux,
        ["suppressedCrashes"] = crash.SuppressedCrashes,
        ["warnings"] = new JsonArray([.. crash.Warnings.Select(w => (JsonNode?)JsonValue.Create(w))]),
    }.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";

    /// <summary>Writes crash.json into <paramref name="folder"/> atomically (temporary file, fsync, rename), mode 0600.</summary>
    public static void WriteCrashJson(string folder, GuestCrash crash) => WritePrivateFile(folder, CrashFile, ToJson(crash));

    /// <summary>Writes a small text file atomically, mode 0600.</summary>
    public static void WritePrivateFile(string folder, string name, string text)
    {
        var final = System.IO.Path.Combine(folder, name);
        var temporary = System.IO.Path.Combine(folder, $".{name}.{Guid.NewGuid():N}.tmp");
        using (var stream = new FileStream(temporary, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            stream.Write(Encoding.UTF8.GetBytes(text));
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, final, overwrite: true);
    }

    private static void MakePrivateDirectory(string path, bool allowExisting)
    {
        var error = UnixFile.MakeDirectory(path, 0x1c0);
        if (error == 0 || (allowExisting && error == UnixFile.EExist && UnixFile.LStat(path) is { IsDirectory: true }))
        {
            return;
        }
        throw new VmDebugException("ArchiveCreateFailed", ErrorKind.WriteError,
            $"Cannot create '{path}' in the crash archive: {(error == UnixFile.EExist ? "a non-directory (or symlink) is in the way" : UnixFile.ErrorText(error))}.", path);
    }
}
