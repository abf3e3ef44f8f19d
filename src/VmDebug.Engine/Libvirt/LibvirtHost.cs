using System.Xml.Linq;
using VmDebug.Engine.CrashConfiguration;

namespace VmDebug.Engine.Libvirt;

/// <summary>
/// What the configuration commands need from libvirt, gathered through one connection: a domain's persistent
/// XML and state, the daemon's version, its active jobs, the largest guest's RAM, and the daemon process behind
/// the connection's socket (so a restart hits the daemon the user talks to, not another one on the host).
/// </summary>
internal sealed class LibvirtHost : IDisposable
{
    private const string SystemRunDirectory = "/run/libvirt";

    private LibvirtHost(LibvirtConnection connection) => Connection = connection;

    public LibvirtConnection Connection { get; }

    public static LibvirtHost Open(string? uri, bool readOnly = false) => new(LibvirtConnection.Open(uri ?? LibvirtConnection.DefaultUri, readOnly));

    /// <summary>The persistent definition (with secrets, so a redefinition keeps them) and whether the domain runs.</summary>
    public (string Xml, bool Running) PersistentDomain(string name, bool readOnly = false)
    {
        using var domain = Connection.LookupDomain(name);
        // Read-only connections may not ask for secrets; their XML is only read, never defined back.
        var flags = LibvirtDomainXmlFlags.Inactive | (readOnly ? LibvirtDomainXmlFlags.None : LibvirtDomainXmlFlags.Secure);
        return (domain.GetXmlDesc(flags), domain.IsActive);
    }

    public void Define(string xml) => Connection.DefineDomain(xml).Dispose();

    public Version LibVersion => Connection.GetLibVersion();

    public IReadOnlyList<ActiveDomainJob> ActiveJobs() =>
        Connection.GetActiveJobs().Select(j => new ActiveDomainJob(j.Domain, JobName(j))).ToList();

    private static string JobName(LibvirtActiveJob job) => job.Operation switch
    {
        LibvirtJobOperation.Unknown => $"{job.JobType.ToString().ToLowerInvariant()} job running for {job.Elapsed.TotalSeconds:0} s",
        LibvirtJobOperation.MigrationIn => "incoming migration",
        LibvirtJobOperation.MigrationOut => "outgoing migration",
        LibvirtJobOperation.SnapshotRevert => "snapshot revert",
        LibvirtJobOperation.SnapshotDelete => "snapshot deletion",
        var op => op.ToString().ToLowerInvariant(),
    };

    /// <summary>The largest &lt;memory&gt; among all defined domains; null when there are none.</summary>
    public long? LargestGuestRamBytes()
    {
        long? largest = null;
        foreach (var domain in Connection.ListAllDomains())
        {
            using (domain)
            {
                try
                {
                    var memory = XDocument.Parse(domain.GetXmlDesc(LibvirtDomainXmlFlags.Inactive)).Root?.Element("memory");
                    if (GuestPanicEditor.MemoryBytes(memory) is { } bytes && bytes > (largest ?? 0))
                    {
                        largest = bytes;
                    }
                }
                catch (LibvirtException) { } // undefined meanwhile
            }
        }
        return largest;
    }

    /// <summary>
    /// The Unix socket a local URI reaches: its socket= parameter, else the modular or monolithic daemon's
    /// system socket. Null for remote URIs (a daemon on another host cannot be restarted from here) and session URIs.
    /// </summary>
    public static string? SocketOf(string? uri)
    {
        uri ??= LibvirtConnection.DefaultUri;
        var query = uri.IndexOf('?', StringComparison.Ordinal);
        var main = query >= 0 ? uri[..query] : uri;
        // qemu[+unix]:///... is local; a host name or another transport (ssh, tcp, tls) is not.
        var scheme = main.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0 || main[scheme..].StartsWith(":///", StringComparison.Ordinal) is false)
        {
            return null;
        }

        var transport = main[..scheme].Split('+') is [_, var t] ? t : null;
        if (transport is not (null or "unix") || !main.EndsWith("/system", StringComparison.Ordinal))
        {
            return null; // session daemons are per user
        }

        if (query >= 0)
        {
            foreach (var pair in uri[(query + 1)..].Split('&'))
            {
                if (pair.StartsWith("socket=", StringComparison.Ordinal))
                {
                    return Uri.UnescapeDataString(pair["socket=".Length..]);
                }
            }
        }
        var modular = Path.Combine(SystemRunDirectory, "virtqemud-sock");
        return File.Exists(modular) ? modular : Path.Combine(SystemRunDirectory, "libvirt-sock");
    }

    /// <summary>The daemon process listening on the URI's socket, when it is libvirtd or virtqemud (not systemd's socket unit).</summary>
    public static int? DaemonProcessOf(string? socket, HostPaths paths)
    {
        if (socket is null || UnixSocketPeer.TryGetListenerProcessId(socket) is not { } pid)
        {
            return null;
        }

        return LibvirtDaemonLocator.ReadComm(paths, pid) is "libvirtd" or "virtqemud" ? pid : null;
    }

    public void Dispose() => Connection.Dispose();
}
