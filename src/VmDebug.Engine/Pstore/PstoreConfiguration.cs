namespace VmDebug;

/// <summary>
/// A guest's pstore/ramoops configuration as Set-GuestPstore leaves it (or, with -WhatIf, would): the kernel parameters,
/// the region and why it lies there, the domain's new kernel command line, and what would stop pstore from writing.
/// </summary>
public sealed class PstoreConfiguration
{
    /// <summary>The libvirt domain's name (also for -XmlPath, from its &lt;name&gt;).</summary>
    public string? Domain { get; init; }
    public string? XmlPath { get; init; }

    /// <summary>The domain boots a kernel given in &lt;os&gt;&lt;kernel&gt;, so its &lt;cmdline&gt; was edited; otherwise the parameters go inside the guest.</summary>
    public required bool DirectKernelBoot { get; init; }

    /// <summary>Guest-physical start of the region (ramoops.mem_address, memmap=…$ADDR).</summary>
    public required ulong Address { get; init; }
    public required ulong Size { get; init; }
    public required ulong RecordSize { get; init; }
    public required int Ecc { get; init; }

    /// <summary>The words to add to the guest kernel's command line: memmap= and ramoops.*.</summary>
    public required string KernelParameters { get; init; }

    /// <summary>The domain's &lt;cmdline&gt; after the change; null when it does not boot a kernel directly.</summary>
    public string? CommandLine { get; init; }

    public required PstoreAddressSource AddressSource { get; init; }

    /// <summary>Why the region lies at <see cref="Address"/>.</summary>
    public required string AddressReason { get; init; }

    /// <summary>The domain XML changed (or, with -WhatIf, would).</summary>
    public required bool Changed { get; init; }

    /// <summary>Unified diff of the domain XML; empty when nothing changes.</summary>
    public required string Diff { get; init; }

    public required IReadOnlyList<string> Warnings { get; init; }
}
