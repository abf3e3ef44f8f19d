namespace VmDebug.Engine.Qmp;

/// <summary>
/// Whether a Unix socket listens at a path, from /proc/net/unix (flag __SO_ACCEPTCON), without connecting: QEMU
/// creates its socket file (bind) a moment before it listens, and a probe connection would take the monitor's one
/// client slot, whose greeting and queued events the next client then sees.
/// </summary>
public static class QmpSocketListening
{
    private const int AcceptConnections = 0x10000;

    public static bool IsListening(string path)
    {
        foreach (var line in File.ReadLines("/proc/net/unix").Skip(1))
        {
            // Num RefCount Protocol Flags Type St Inode Path; the path is the rest of the line (it may hold spaces).
            var fields = line.Split(' ', 8, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 8 && fields[7] == path && (Convert.ToInt32(fields[3], 16) & AcceptConnections) != 0)
            {
                return true;
            }
        }
        return false;
    }
}
