using VmDebug.Engine.Libvirt;

namespace VmDebug.Engine.Pstore;

/// <summary>
/// Set-GuestPstore's request: a libvirt domain or an XML file, the region's size and optionally its address, record
/// size and ECC. The internal members are the facts <see cref="PstoreConfigurator"/> gathers before planning.
/// </summary>
public sealed record PstoreConfigurationRequest
{
    public string? Domain { get; init; }

    /// <summary>libvirt URI; null means <see cref="LibvirtConnection.DefaultUri"/>.</summary>
    public string? ConnectionUri { get; init; }

    public string? XmlPath { get; init; }

    /// <summary>Bytes of the region (ramoops.mem_size, memmap=SIZE): whole 4 KiB pages.</summary>
    public required ulong Size { get; init; }

    /// <summary>Null: picked from the guest's usable RAM.</summary>
    public ulong? Address { get; init; }

    /// <summary>Null: an eighth of the region (a power of two, at least 4 KiB): several dmesg zones, each big enough for a panic.</summary>
    public ulong? RecordSize { get; init; }

    /// <summary>ramoops.ecc: parity bytes per 128-byte block (1 means 16); 0 for none.</summary>
    public int Ecc { get; init; }

    /// <summary>Persistent XML of <see cref="Domain"/>, fetched from libvirt.</summary>
    internal string? DomainXml { get; init; }

    internal bool DomainIsRunning { get; init; }

    /// <summary>The running guest's e820 map (its log's BIOS-e820 records); null or empty: modelled from the memory size.</summary>
    internal IReadOnlyList<E820Range>? E820 { get; init; }

    /// <summary>What gathering the facts found (an e820 map that could not be read, say), reported first.</summary>
    internal IReadOnlyList<string> SourceWarnings { get; init; } = [];
}
