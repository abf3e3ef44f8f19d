using System.Globalization;
using VmDebug.Engine.Native;

namespace VmDebug.Engine.Libvirt;

/// <summary>A libvirt domain reference (virDomainPtr). Errors name the domain as their target.</summary>
public sealed unsafe class LibvirtDomain : IDisposable
{
    private const int UuidStringBufferLength = 37; // VIR_UUID_STRING_BUFLEN

    internal LibvirtDomain(LibvirtDomainHandle handle, LibvirtConnection connection)
    {
        Handle = handle;
        Connection = connection;
        Name = LibvirtNative.Utf8(LibvirtNative.virDomainGetName(handle)) ?? throw Fail("virDomainGetName");
    }

    internal LibvirtDomainHandle Handle { get; }
    public LibvirtConnection Connection { get; }
    public string Name { get; }

    public Guid Uuid
    {
        get
        {
            var buf = stackalloc byte[UuidStringBufferLength];
            if (LibvirtNative.virDomainGetUUIDString(Handle, buf) < 0)
            {
                throw Fail("Reading the UUID");
            }

            return Guid.Parse(LibvirtNative.Utf8(buf)!, CultureInfo.InvariantCulture);
        }
    }

    /// <summary>The hypervisor's id of a running domain, or null when it is not running.</summary>
    public int? Id
    {
        get
        {
            var id = LibvirtNative.virDomainGetID(Handle);
            return id == uint.MaxValue ? null : (int)id;
        }
    }

    public bool IsActive
    {
        get
        {
            var r = LibvirtNative.virDomainIsActive(Handle);
            if (r < 0)
            {
                throw Fail("Checking whether the domain is active");
            }

            return r == 1;
        }
    }

    /// <summary>State and libvirt's reason number for it (virDomainGetState).</summary>
    public (LibvirtDomainState State, int Reason) GetState()
    {
        if (LibvirtNative.virDomainGetState(Handle, out var state, out var reason, 0) < 0)
        {
            throw Fail("Reading the state");
        }

        return ((LibvirtDomainState)state, reason);
    }

    public string GetXmlDesc(LibvirtDomainXmlFlags flags = LibvirtDomainXmlFlags.None) =>
        LibvirtNative.TakeUtf8(LibvirtNative.virDomainGetXMLDesc(Handle, (uint)flags)) ?? throw Fail("Reading the XML");

    /// <summary>Starts the defined domain (virDomainCreate).</summary>
    public void Create()
    {
        if (LibvirtNative.virDomainCreate(Handle) < 0)
        {
            throw Fail("Starting the domain");
        }
    }

    /// <summary>Powers the domain off at once (virDomainDestroy).</summary>
    public void Destroy()
    {
        if (LibvirtNative.virDomainDestroy(Handle) < 0)
        {
            throw Fail("Destroying the domain");
        }
    }

    public void Undefine(uint flags = 0)
    {
        if (LibvirtNative.virDomainUndefineFlags(Handle, flags) < 0)
        {
            throw Fail("Undefining the domain");
        }
    }

    /// <summary>
    /// Blocks until the dump is written (virDomainCoreDumpWithFormat). libvirt opens <paramref name="path"/> itself,
    /// as the daemon's user, and hands QEMU the descriptor. Poll <see cref="GetJobInfo"/> from another thread for progress.
    /// </summary>
    public void CoreDumpWithFormat(string path, LibvirtDumpFormat format, LibvirtDumpFlags flags)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (LibvirtNative.virDomainCoreDumpWithFormat(Handle, path, (uint)format, (uint)flags) < 0)
        {
            throw Fail($"Dumping to '{path}' as {format}");
        }
    }

    public LibvirtJobInfo GetJobInfo()
    {
        if (LibvirtNative.virDomainGetJobInfo(Handle, out var i) < 0)
        {
            throw Fail("Reading job info");
        }

        return new LibvirtJobInfo((LibvirtJobType)i.Type, i.TimeElapsed, i.TimeRemaining, i.DataTotal, i.DataProcessed,
            i.DataRemaining, i.MemTotal, i.MemProcessed, i.MemRemaining, i.FileTotal, i.FileProcessed, i.FileRemaining);
    }

    /// <summary>
    /// The operation of the domain's current job (virDomainGetJobStats, typed parameter "operation");
    /// Unknown when libvirt does not say.
    /// </summary>
    public LibvirtJobOperation GetJobOperation()
    {
        if (LibvirtNative.virDomainGetJobStats(Handle, out _, out var parameters, out var count, 0) < 0)
        {
            throw Fail("Reading job stats");
        }

        try
        {
            return LibvirtNative.virTypedParamsGetInt(parameters, count, "operation", out var operation) == 1
                ? (LibvirtJobOperation)operation
                : LibvirtJobOperation.Unknown;
        }
        finally
        {
            LibvirtNative.virTypedParamsFree(parameters, count);
        }
    }

    /// <summary>Asks libvirt to abort the domain's current job (virDomainAbortJob).</summary>
    public void AbortJob()
    {
        if (LibvirtNative.virDomainAbortJob(Handle) < 0)
        {
            throw Fail("Aborting the job");
        }
    }

    /// <summary>
    /// Sends a raw QMP (or, with <paramref name="hmp"/>, HMP) command through libvirt and returns QEMU's reply.
    /// A QMP error is not an exception: it is in the returned JSON ({"error":{"class":...}}), as QEMU sent it.
    /// libvirt marks the domain tainted ("custom-monitor") afterwards, so VmDebug never does this on its own.
    /// </summary>
    public string QemuMonitorCommand(string command, bool hmp = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(command);
        LibvirtRuntime.EnsureQemuLibrary();
        if (LibvirtNative.virDomainQemuMonitorCommand(Handle, command, out var result, hmp ? 1u : 0u) < 0)
        {
            throw Fail("Sending a QEMU monitor command");
        }

        return LibvirtNative.TakeUtf8(result) ?? "";
    }

    /// <summary>
    /// Reads guest-physical memory (virDomainMemoryPeek with VIR_MEMORY_PHYSICAL). libvirt reads it through QEMU's
    /// pmemsave without pausing the guest; the remote protocol caps one call (4 MiB since libvirt 0.9.x, 64 KiB before).
    /// </summary>
    public void PeekPhysical(ulong start, Span<byte> buffer)
    {
        const uint memoryPhysical = 2; // VIR_MEMORY_PHYSICAL
        fixed (byte* p = buffer)
        {
            if (LibvirtNative.virDomainMemoryPeek(Handle, start, (nuint)buffer.Length, p, memoryPhysical) < 0)
            {
                throw Fail($"Reading {buffer.Length} bytes of guest-physical memory at 0x{start:x}");
            }
        }
    }

    /// <summary>Pauses the domain's vCPUs (virDomainSuspend).</summary>
    public void Suspend()
    {
        if (LibvirtNative.virDomainSuspend(Handle) < 0)
        {
            throw Fail("Pausing the domain");
        }
    }

    /// <summary>Resumes a paused domain (virDomainResume).</summary>
    public void Resume()
    {
        if (LibvirtNative.virDomainResume(Handle) < 0)
        {
            throw Fail("Resuming the domain");
        }
    }

    /// <summary>Resets the domain as a reset button would (virDomainReset); a paused domain stays paused.</summary>
    public void Reset()
    {
        if (LibvirtNative.virDomainReset(Handle, 0) < 0)
        {
            throw Fail("Resetting the domain");
        }
    }

    /// <summary>Sends the guest a non-maskable interrupt (virDomainInjectNMI; QEMU's inject-nmi, libvirt 0.9.1+).</summary>
    public void InjectNmi()
    {
        if (LibvirtNative.virDomainInjectNMI(Handle, 0) < 0)
        {
            throw Fail("Injecting an NMI");
        }
    }

    private LibvirtException Fail(string operation) => LibvirtErrors.FromLastError(operation, Name ?? "(unnamed domain)");

    public override string ToString() => Name;

    public void Dispose() => Handle.Dispose();
}
