namespace VmDebug.Engine.GuestKernel;

/// <summary>Which guest kernel to read: exactly one of a dump, a QEMU process core, a QMP socket or a libvirt domain.</summary>
public sealed record GuestKernelTarget
{
    /// <summary>A vmcore: ELF, kdump in any codec, or a flattened stream.</summary>
    public string? Path { get; init; }

    /// <summary>A QEMU process core written with dump-guest-core=on.</summary>
    public string? CoreFile { get; init; }

    /// <summary>A running QEMU's QMP socket: pages are read with pmemsave into a pipe VmDebug owns.</summary>
    public string? QmpSocket { get; init; }

    /// <summary>A libvirt domain: pages are read with virDomainMemoryPeek(VIR_MEMORY_PHYSICAL).</summary>
    public string? Domain { get; init; }

    public string ConnectionUri { get; init; } = Libvirt.LibvirtConnection.DefaultUri;

    /// <summary>Live sources only: pause a running guest while reading (resumed afterwards); otherwise it keeps running.</summary>
    public bool Pause { get; init; }

    /// <summary>With <see cref="CoreFile"/>: the guest-physical layout when QEMU's command line does not settle it.</summary>
    public string? GuestMemoryLayout { get; init; }

    /// <summary>Throws when not exactly one source is given.</summary>
    public void Validate()
    {
        var given = new[] { Path, CoreFile, QmpSocket, Domain }.Count(s => !string.IsNullOrEmpty(s));
        if (given != 1)
        {
            throw new VmDebugException("GuestKernelTargetAmbiguous", ErrorKind.InvalidArgument,
                $"Give exactly one of a dump path, a process core, a QMP socket or a libvirt domain ({given} given).");
        }
        if (Pause && (Path is not null || CoreFile is not null))
        {
            throw new VmDebugException("GuestKernelPauseNotLive", ErrorKind.InvalidArgument,
                "Pause applies only to a live guest (a QMP socket or a libvirt domain), not to a file.", Path ?? CoreFile);
        }
    }
}
