namespace VmDebug;

/// <summary>Where Set-GuestPstore's address came from.</summary>
public enum PstoreAddressSource
{
    /// <summary>Given with -Address, and checked against the guest's RAM.</summary>
    Parameter,
    /// <summary>Picked from the running guest's e820 map (its log's BIOS-e820 records).</summary>
    E820,
    /// <summary>Picked from the domain's memory size and QEMU's pc/q35 RAM layout (no running guest to ask).</summary>
    MemoryLayout,
}
