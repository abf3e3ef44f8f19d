using VmDebug.Engine.Libvirt;

namespace VmDebug.Engine.CrashConfiguration;

/// <summary>Engine entry points of the panic-device commands.</summary>
public static class GuestPanicCommands
{
    /// <summary>Get-GuestPanicDevice: the domain's crash configuration and the state of its auto-dump directory.</summary>
    public static GuestPanicConfiguration Get(GuestPanicRequest request)
    {
        var options = Options(request) with { Model = null, VmcoreInfo = null, OnCrash = null, AutoDumpPath = null, BypassCache = null };
        if (request.XmlPath is not null)
        {
            return GuestPanicConfigurator.Read(options);
        }

        using var libvirt = LibvirtHost.Open(request.ConnectionUri, readOnly: true);
        var (xml, running) = libvirt.PersistentDomain(request.Domain!, readOnly: true);
        return GuestPanicConfigurator.Read(options with { DomainXml = xml, DomainIsRunning = running, LibvirtVersion = libvirt.LibVersion });
    }

    /// <summary>Set-GuestPanicDevice: plans the XML edit (and qemu.conf auto-dump settings) without writing anything.</summary>
    public static GuestPanicChange Plan(GuestPanicRequest request)
    {
        var options = Options(request);
        if (request.XmlPath is not null)
        {
            return new GuestPanicChange(GuestPanicConfigurator.Plan(options), null, Target(request, options));
        }

        var libvirt = LibvirtHost.Open(request.ConnectionUri);
        try
        {
            var (xml, running) = libvirt.PersistentDomain(request.Domain!);
            var plan = GuestPanicConfigurator.Plan(options with { DomainXml = xml, DomainIsRunning = running, LibvirtVersion = libvirt.LibVersion });
            return new GuestPanicChange(plan, libvirt, Target(request, options));
        }
        catch
        {
            libvirt.Dispose();
            throw;
        }
    }

    private static GuestPanicRequest Options(GuestPanicRequest request)
    {
        DomainSource.Check(request.Domain, request.XmlPath, required: true);
        return request with { ConfigPath = request.ConfigPath ?? request.Paths.QemuConf };
    }

    private static string Target(GuestPanicRequest request, GuestPanicRequest options) =>
        (request.XmlPath ?? $"domain '{request.Domain}'") + (request.AutoDumpPath is not null || request.BypassCache is not null ? $", {options.ConfigPath}" : "");
}
