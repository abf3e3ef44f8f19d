namespace VmDebug;

/// <summary>How the NMI reached QEMU.</summary>
public enum GuestNmiChannel
{
    /// <summary>QMP <c>inject-nmi</c> on the guest's own QMP socket.</summary>
    Qmp,
    /// <summary>libvirt's <c>virDomainInjectNMI</c> (what <c>virsh inject-nmi</c> calls).</summary>
    Libvirt,
}
