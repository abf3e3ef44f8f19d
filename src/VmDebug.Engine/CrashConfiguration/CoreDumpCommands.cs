using VmDebug.Engine.Libvirt;

namespace VmDebug.Engine.CrashConfiguration;

/// <summary>Engine entry points of the core-dump commands: one call each, libvirt consulted only when needed.</summary>
public static class CoreDumpCommands
{
    /// <summary>
    /// Get-QemuCoreDumpSetting. With a connection URI the largest guest's RAM is read from libvirt (read-only)
    /// and the daemon behind the URI is the one checked for a pending restart; an unreachable daemon is a warning.
    /// </summary>
    public static QemuCoreDumpSetting Get(CoreDumpRequest request)
    {
        var options = BaseOptions(request);
        var notes = new List<string>();
        var uri = request.ConnectionUri ?? LibvirtConnection.DefaultUri;
        // Without a URI, ask the system daemon only if it is there: a host without libvirt running is no error.
        if (request.ConnectionUri is not null || options.DaemonSocketPath is not null)
        {
            try
            {
                using var libvirt = LibvirtHost.Open(uri, readOnly: true);
                options = options with { LargestGuestRamBytes = libvirt.LargestGuestRamBytes() };
            }
            catch (LibvirtException e)
            {
                notes.Add($"libvirt at {uri} could not be asked for its guests' RAM: {e.LibvirtMessage}");
            }
        }
        var setting = CoreDumpConfigurator.Read(options);
        return notes.Count == 0 ? setting : CoreDumpPlan.Copy(setting, setting.Changes, setting.Diff, null, notes);
    }

    /// <summary>Enable-QemuCoreDump: max_core, dump_guest_core, the domain's dumpCore='on', and the restart.</summary>
    public static CoreDumpChange PlanEnable(CoreDumpRequest request) => Plan(request, CoreDumpConfigurator.PlanEnable);

    /// <summary>Disable-QemuCoreDump: libvirt's defaults again, the domain's dumpCore removed, and the restart.</summary>
    public static CoreDumpChange PlanDisable(CoreDumpRequest request) => Plan(request, CoreDumpConfigurator.PlanDisable);

    private static CoreDumpChange Plan(CoreDumpRequest request, Func<CoreDumpRequest, CoreDumpPlan> planner)
    {
        DomainSource.Check(request.Domain, request.XmlPath, required: false);
        var options = BaseOptions(request);
        var notes = new List<string>();
        LibvirtHost? libvirt = null;
        try
        {
            var uri = request.ConnectionUri ?? LibvirtConnection.DefaultUri;
            var daemonDown = false;
            if (request.RestartDaemon && options.DaemonSocketPath is null)
            {
                var socket = LibvirtHost.SocketOf(uri)
                    ?? throw new VmDebugException("LibvirtDaemonNotLocal", ErrorKind.InvalidArgument,
                        $"{uri} does not reach the system libvirt daemon of this host, the only one whose restart applies qemu.conf.", uri);
                if (request.Domain is not null)
                {
                    throw new VmDebugException("LibvirtDaemonNotRunning", ErrorKind.ResourceUnavailable,
                        $"The libvirt daemon of {uri} is not running (no socket {socket}), so domain '{request.Domain}' cannot be changed.", uri);
                }

                daemonDown = true;
                notes.Add($"The libvirt daemon of {uri} is not running (no socket {socket}): there is nothing to restart, and it reads the new settings when it starts.");
            }
            if (request.Domain is not null || (request.RestartDaemon && !daemonDown))
            {
                libvirt = LibvirtHost.Open(request.ConnectionUri);
                options = options with { LargestGuestRamBytes = libvirt.LargestGuestRamBytes() };
                if (request.Domain is { } name)
                {
                    var (xml, running) = libvirt.PersistentDomain(name);
                    options = options with { DomainXml = xml, DomainIsRunning = running };
                }
                if (request.RestartDaemon)
                {
                    options = options with { ActiveJobs = libvirt.ActiveJobs() };
                }
            }
            var plan = planner(options);
            if (plan.Domain?.TakesEffectAtNextBoot == true)
            {
                notes.Add($"Domain '{request.Domain}' is running: its persistent definition changes, and dumpCore takes effect at its next boot.");
            }

            if (request.RestartDaemon && plan.Restart is null && !daemonDown)
            {
                notes.Add("No libvirt daemon was found to restart: the new settings apply when it next starts.");
            }

            var target = options.ConfigPath! + (request.Domain is { } d ? $", domain '{d}'" : request.XmlPath is { } x ? $", {x}" : "");
            return new CoreDumpChange(plan, libvirt, target, notes);
        }
        catch
        {
            libvirt?.Dispose();
            throw;
        }
    }

    /// <summary>The daemon behind the URI; offline mode (an XML file) contacts none, not even its socket.</summary>
    private static CoreDumpRequest BaseOptions(CoreDumpRequest request)
    {
        var socket = request.XmlPath is null ? LibvirtHost.SocketOf(request.ConnectionUri) : null;
        return request with
        {
            ConfigPath = request.ConfigPath ?? request.Paths.QemuConf,
            DaemonProcessId = LibvirtHost.DaemonProcessOf(socket, request.Paths),
            DaemonSocketPath = socket is not null && File.Exists(socket) ? socket : null,
        };
    }
}
