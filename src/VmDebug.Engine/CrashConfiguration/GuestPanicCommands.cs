using VmDebug.Engine.DomainXml;
using VmDebug.Engine.HostConfig;

namespace VmDebug.Engine.Configuration;

/// <summary>Parameters of Set-/Get-GuestPanicDevice and `vmdebug panic-device set|show`. Exactly one of Domain and XmlPath.</summary>
public sealed record GuestPanicRequest
{
    /// <summary>A libvirt domain: its persistent definition is read and redefined.</summary>
    public string? Domain { get; init; }
    /// <summary>A domain XML file edited offline; libvirt is not contacted.</summary>
    public string? XmlPath { get; init; }
    /// <summary>libvirt URI; null means qemu:///system.</summary>
    public string? ConnectionUri { get; init; }
    /// <summary>Null leaves the panic device as it is; Auto adds one only when the domain has none.</summary>
    public GuestPanicModel? Model { get; init; }
    /// <summary>Null leaves &lt;on_crash&gt; as it is.</summary>
    public CrashAction? OnCrash { get; init; }
    /// <summary>Null leaves &lt;vmcoreinfo&gt; as it is.</summary>
    public bool? VmcoreInfo { get; init; }
    /// <summary>qemu.conf; null means /etc/libvirt/qemu.conf.</summary>
    public string? ConfigPath { get; init; }
    public string? AutoDumpPath { get; init; }
    public bool? BypassCache { get; init; }
    public HostPaths Paths { get; init; } = HostPaths.Default;
}

/// <summary>A planned Set-GuestPanicDevice: <see cref="Describe"/> is the -WhatIf text, <see cref="Apply"/> does it.</summary>
public sealed class GuestPanicChange : IDisposable
{
    private readonly LibvirtHost? _libvirt;

    internal GuestPanicChange(GuestPanicPlan plan, LibvirtHost? libvirt, string target)
    {
        Plan = plan;
        _libvirt = libvirt;
        Target = target;
    }

    public GuestPanicPlan Plan { get; }
    public string Target { get; }
    /// <summary>The configuration as it would be after Apply.</summary>
    public GuestPanicConfiguration Preview => Plan.Configuration;
    public bool HasChanges => Plan.HasChanges;

    public string Describe() => Plan.HasChanges ? Plan.Diff : $"{Target}: no change.\n";

    /// <summary>Writes qemu.conf (if asked), then the XML file or the libvirt domain's persistent definition.</summary>
    public GuestPanicConfiguration Apply(CancellationToken cancellationToken) =>
        Plan.Apply(_libvirt is null ? null : _libvirt.Define, cancellationToken);

    public void Dispose() => _libvirt?.Dispose();
}

/// <summary>Engine entry points of the panic-device commands.</summary>
public static class GuestPanicCommands
{
    /// <summary>Get-GuestPanicDevice: the domain's crash configuration and the state of its auto-dump directory.</summary>
    public static GuestPanicConfiguration Get(GuestPanicRequest request)
    {
        var options = Options(request) with { Model = null, VmcoreInfo = null, OnCrash = null, AutoDumpPath = null, BypassCache = null };
        if (request.XmlPath is not null) return GuestPanicConfigurator.Read(options);
        using var libvirt = LibvirtHost.Open(request.ConnectionUri, readOnly: true);
        var (xml, running) = libvirt.PersistentDomain(request.Domain!, readOnly: true);
        return GuestPanicConfigurator.Read(options with { DomainXml = xml, DomainIsRunning = running, LibvirtVersion = libvirt.LibVersion });
    }

    /// <summary>Set-GuestPanicDevice: plans the XML edit (and qemu.conf auto-dump settings) without writing anything.</summary>
    public static GuestPanicChange Plan(GuestPanicRequest request)
    {
        var options = Options(request);
        if (request.XmlPath is not null)
            return new GuestPanicChange(GuestPanicConfigurator.Plan(options), null, Target(request, options));
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

    private static GuestPanicOptions Options(GuestPanicRequest request)
    {
        if ((request.Domain is null) == (request.XmlPath is null))
            throw new VmDebugException("DomainSourceAmbiguous", ErrorKind.InvalidArgument,
                "Give either a libvirt domain or a domain XML file, not both or neither.", request.Domain ?? request.XmlPath);
        return new GuestPanicOptions
        {
            XmlPath = request.XmlPath,
            Model = request.Model,
            OnCrash = request.OnCrash,
            VmcoreInfo = request.VmcoreInfo,
            ConfigPath = request.ConfigPath ?? request.Paths.QemuConf,
            AutoDumpPath = request.AutoDumpPath,
            BypassCache = request.BypassCache,
            Paths = request.Paths,
        };
    }

    private static string Target(GuestPanicRequest request, GuestPanicOptions options) =>
        (request.XmlPath ?? $"domain '{request.Domain}'") + (request.AutoDumpPath is not null || request.BypassCache is not null ? $", {options.ConfigPath}" : "");
}
