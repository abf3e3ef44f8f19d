namespace VmDebug.Engine.CrashConfiguration;

/// <summary>How the kernel disposes of process cores: kernel.core_pattern and, when it pipes to it, systemd-coredump.</summary>
public static class CoreDestination
{
    // systemd >= 251 defaults ProcessSizeMax/ExternalSizeMax to 32G on 64-bit (1G on 32-bit); systemd PR #22448.
    private static long DefaultSizeMax => IntPtr.Size == 8 ? 32L << 30 : 1L << 30;

    public static string? ReadCorePattern(HostPaths paths)
    {
        try { return File.ReadAllText(paths.CorePattern).TrimEnd('\n'); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>A pattern starting with '|' pipes the core to a program; systemd's handler is named in it.</summary>
    public static bool IsSystemdCoredump(string? corePattern) =>
        corePattern is not null && corePattern.StartsWith('|') && corePattern.Contains("systemd-coredump", StringComparison.Ordinal);

    /// <summary>
    /// Effective [Coredump] settings, merged as coredump.conf(5) says: the first main file found in
    /// /etc, /run, /usr/local/lib, /usr/lib; then drop-ins from all *.conf.d directories sorted by file name,
    /// a file in /etc masking one of the same name in /run or /usr.
    /// </summary>
    public static SystemdCoredumpLimits ReadSystemdCoredumpLimits(HostPaths paths)
    {
        string[] dirs =
        [
            Path.Combine(paths.SysConfRoot, "systemd"),
            Path.Combine(paths.RunRoot, "systemd"),
            Path.Combine(paths.UsrRoot, "local", "lib", "systemd"),
            Path.Combine(paths.UsrRoot, "lib", "systemd"),
        ];
        var files = new List<string>();
        var main = dirs.Select(d => Path.Combine(d, "coredump.conf")).FirstOrDefault(File.Exists);
        if (main is not null)
        {
            files.Add(main);
        }

        var dropIns = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var dir in dirs.AsEnumerable().Reverse())
        {
            var d = Path.Combine(dir, "coredump.conf.d");
            if (!Directory.Exists(d))
            {
                continue;
            }

            foreach (var f in Directory.EnumerateFiles(d, "*.conf"))
            {
                dropIns[Path.GetFileName(f)] = f;
            }
        }
        files.AddRange(dropIns.Values);

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var section = "";
            foreach (var raw in File.ReadLines(file))
            {
                var line = raw.Trim();
                if (line.Length == 0 || line[0] is '#' or ';')
                {
                    continue;
                }

                if (line[0] == '[') { section = line.Trim('[', ']'); continue; }
                var eq = line.IndexOf('=');
                if (section != "Coredump" || eq <= 0)
                {
                    continue;
                }

                values[line[..eq].Trim()] = line[(eq + 1)..].Trim();
            }
        }

        long? Size(string key, long? fallback) =>
            values.TryGetValue(key, out var v) && ByteSize.TryParseSystemd(v, out var b) ? b : fallback;
        return new SystemdCoredumpLimits
        {
            Storage = values.GetValueOrDefault("Storage", "external"),
            ProcessSizeMax = Size("ProcessSizeMax", DefaultSizeMax)!.Value,
            ExternalSizeMax = Size("ExternalSizeMax", DefaultSizeMax)!.Value,
            // MaxUse defaults to 10% of the file system holding /var/lib/systemd/coredump.
            MaxUse = Size("MaxUse", null),
            ConfigFiles = files,
        };
    }

    /// <summary>Warnings about whether a core of a QEMU process with the given guest RAM would be kept whole.</summary>
    public static IEnumerable<string> Assess(string? corePattern, SystemdCoredumpLimits? limits, long? largestGuestRamBytes, bool includeGuestMemory)
    {
        if (corePattern is null)
        {
            yield return "kernel.core_pattern could not be read; where QEMU cores go is unknown.";
            yield break;
        }
        if (corePattern.StartsWith('|'))
        {
            if (limits is null)
            {
                yield break;
            }

            if (limits.Storage == "none")
            {
                yield return "systemd-coredump has Storage=none: QEMU cores are logged but not kept.";
            }
            // Guest RAM plus host-side mappings: libvirt's own advice is guest size + 1 GiB.
            long? needed = includeGuestMemory && largestGuestRamBytes is { } ram ? ram + (1L << 30) : null;
            if (needed is { } n)
            {
                if (limits.ProcessSizeMax < n)
                {
                    yield return $"systemd-coredump ProcessSizeMax={Units.FormatBytes(limits.ProcessSizeMax)} is below the largest guest's RAM plus 1 GiB ({Units.FormatBytes(n)}): its cores will be discarded.";
                }

                if (limits.Storage == "external" && limits.ExternalSizeMax < n)
                {
                    yield return $"systemd-coredump ExternalSizeMax={Units.FormatBytes(limits.ExternalSizeMax)} is below the largest guest's RAM plus 1 GiB ({Units.FormatBytes(n)}): its cores will not be stored.";
                }

                if (limits.MaxUse is { } maxUse && maxUse < n)
                {
                    yield return $"systemd-coredump MaxUse={Units.FormatBytes(maxUse)} is below one guest-sized core ({Units.FormatBytes(n)}).";
                }
            }
            yield break;
        }
        if (!corePattern.StartsWith('/'))
        {
            yield return $"kernel.core_pattern '{corePattern}' is a relative path: QEMU started by libvirt runs in '/', so its cores land in '/' (if QEMU's user may write there).";
        }
    }
}
