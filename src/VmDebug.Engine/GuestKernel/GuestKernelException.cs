namespace VmDebug.Engine.GuestKernel;

/// <summary>The guest kernel's memory cannot be read as needed; <see cref="VmDebugException.ErrorId"/> says why.</summary>
public sealed class GuestKernelException : VmDebugException
{
    /// <summary>The source carries no VMCOREINFO note and none was found in its RAM.</summary>
    public const string NoVmcoreInfo = "GuestKernelNoVmcoreInfo";
    /// <summary>VMCOREINFO lacks a key the operation needs, or holds a value out of bounds.</summary>
    public const string VmcoreInfoIncomplete = "GuestKernelVmcoreInfoIncomplete";
    /// <summary>A kernel virtual address is not mapped by the guest's page tables, or its page is not in the source.</summary>
    public const string AddressUnmapped = "GuestKernelAddressUnmapped";
    /// <summary>A read asked for more than the bound allows (guest-controlled sizes are never trusted).</summary>
    public const string ReadTooLarge = "GuestKernelReadTooLarge";
    /// <summary>The live guest could not be read (QMP or libvirt refused or failed).</summary>
    public const string LiveReadFailed = "GuestKernelLiveReadFailed";

    public GuestKernelException(string errorId, ErrorKind kind, string source, string message, Exception? inner = null)
        : base(errorId, kind, $"{source}: {message}", source, inner)
    {
        Source = source;
    }

    /// <summary>The dump, socket or domain concerned.</summary>
    public new string Source { get; }
}
