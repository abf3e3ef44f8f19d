using VmDebug.Engine.Native;

namespace VmDebug.Engine.CrashConfiguration;

/// <summary>Checks libvirt's auto-dump directory against the QEMU user, guest RAM and O_DIRECT.</summary>
public static class DumpDirectoryInspector
{
    /// <param name="user">qemu.conf <c>user</c> ("name", "+uid" or a number).</param>
    /// <param name="group">qemu.conf <c>group</c>; QEMU runs with it as its primary group.</param>
    public static DumpDirectoryStatus Inspect(string path, string user, string group, long? guestRamBytes, bool bypassCache)
    {
        var warnings = new List<string>();
        var own = HostNative.TryGetOwnership(path);
        if (own is not { IsDirectory: true })
        {
            warnings.Add(own is null
                ? $"The dump directory {path} does not exist: libvirt cannot write auto-dumps there."
                : $"The dump path {path} is not a directory.");
            return new DumpDirectoryStatus { Path = path, Exists = false, User = user, Warnings = warnings };
        }

        bool? writable = null;
        var account = HostNative.TryResolveUser(user);
        if (account is null)
        {
            warnings.Add($"The qemu.conf user '{user}' does not exist on this host.");
        }
        else
        {
            var groups = new HashSet<uint>(account.Groups) { account.Gid };
            if (HostNative.TryResolveGroup(group) is { } gid)
            {
                groups.Add(gid);
            }

            writable = CanWrite(path, account.Uid, groups, out var blocker);
            if (writable == false)
            {
                warnings.Add($"{blocker} is not writable by QEMU's user '{user}' (uid {account.Uid}); libvirt falls back to that user where root cannot write (root-squashed NFS).");
            }
        }

        var free = HostNative.TryGetAvailableBytes(path);
        if (free is { } f && guestRamBytes is { } ram && f < ram)
        {
            warnings.Add($"{path} has {Units.FormatBytes(f)} free, less than the guest's RAM ({Units.FormatBytes(ram)}): a full dump will not fit.");
        }

        bool? direct = null;
        if (bypassCache)
        {
            var failure = HostNative.ProbeDirectIo(path);
            direct = failure is null;
            if (failure is not null)
            {
                warnings.Add($"auto_dump_bypass_cache needs O_DIRECT, which {path} refuses ({failure}).");
            }
        }
        return new DumpDirectoryStatus
        {
            Path = path,
            Exists = true,
            User = user,
            WritableByUser = writable,
            FreeBytes = free,
            DirectIoSupported = direct,
            Warnings = warnings,
        };
    }

    /// <summary>
    /// DAC check as the kernel does it for a non-root user: search (x) on every ancestor, write+search on the
    /// directory, using the owner, group or other bits that apply. ACLs and LSMs are not evaluated.
    /// </summary>
    internal static bool CanWrite(string path, uint uid, IReadOnlySet<uint> groups, out string blocker)
    {
        blocker = path;
        if (uid == 0)
        {
            return true;
        }

        var full = Path.GetFullPath(path);
        for (var dir = Path.GetDirectoryName(full); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (HostNative.TryGetOwnership(dir) is not { } o || !Allows(o, uid, groups, write: false)) { blocker = dir; return false; }
        }
        return HostNative.TryGetOwnership(full) is { } own && Allows(own, uid, groups, write: true);
    }

    private static bool Allows(FileOwnership o, uint uid, IReadOnlySet<uint> groups, bool write)
    {
        UnixFileMode x, w;
        if (o.Uid == uid)
        {
            (x, w) = (UnixFileMode.UserExecute, UnixFileMode.UserWrite);
        }
        else if (groups.Contains(o.Gid))
        {
            (x, w) = (UnixFileMode.GroupExecute, UnixFileMode.GroupWrite);
        }
        else
        {
            (x, w) = (UnixFileMode.OtherExecute, UnixFileMode.OtherWrite);
        }

        return o.Mode.HasFlag(x) && (!write || o.Mode.HasFlag(w));
    }
}
