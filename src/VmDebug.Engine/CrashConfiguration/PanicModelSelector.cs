namespace VmDebug.Engine.CrashConfiguration;

/// <summary>Picks a panic device model the way libvirt and QEMU allow it.</summary>
public static class PanicModelSelector
{
    /// <summary>libvirt accepts &lt;panic model='pvpanic'/&gt; (the PCI device) from 9.1.0; 9.0 rejects it.</summary>
    public static readonly Version PvpanicSince = new(9, 1, 0);

    public static GuestPanicModel Choose(GuestPanicModel requested, Version? libvirtVersion, string? arch, string? machine, List<string> warnings)
    {
        var family = ArchFamily(arch);
        var pvpanicOk = libvirtVersion is not null && libvirtVersion >= PvpanicSince;
        if (requested == GuestPanicModel.Auto)
        {
            if (libvirtVersion is null)
            {
                warnings.Add("The libvirt version is unknown; the panic model was chosen as for libvirt before 9.1.0.");
            }

            return family switch
            {
                "ppc" => GuestPanicModel.Pseries,
                "s390" => GuestPanicModel.S390,
                // microvm has no PCI bus; the ISA device works on pc and q35 with every libvirt.
                "x86" => pvpanicOk && machine?.StartsWith("microvm", StringComparison.Ordinal) != true ? GuestPanicModel.Pvpanic : GuestPanicModel.Isa,
                _ when pvpanicOk => GuestPanicModel.Pvpanic,
                _ => throw new PanicModelNotSupportedException("auto",
                    $"libvirt {libvirtVersion?.ToString() ?? "(unknown version)"} offers no panic device for {arch ?? "this architecture"}; the PCI pvpanic model needs libvirt {PvpanicSince}"),
            };
        }
        switch (requested)
        {
            case GuestPanicModel.Pvpanic when libvirtVersion is not null && !pvpanicOk:
                throw new PanicModelNotSupportedException("pvpanic", $"libvirt {libvirtVersion} rejects it; the PCI pvpanic model arrived in libvirt {PvpanicSince}. Use Isa");
            case GuestPanicModel.Isa or GuestPanicModel.Hyperv when family is not ("x86" or null):
                throw new PanicModelNotSupportedException(requested.ToXml(), $"it exists only on x86 guests, and this one is {arch}");
            case GuestPanicModel.Pseries when family is not ("ppc" or null):
            case GuestPanicModel.S390 when family is not ("s390" or null):
                throw new PanicModelNotSupportedException(requested.ToXml(), $"it does not exist on {arch} guests");
        }
        if (requested == GuestPanicModel.Hyperv)
        {
            warnings.Add("The hyperv panic model reports crashes only from Windows guests with Hyper-V enlightenments.");
        }

        return requested;
    }

    private static string? ArchFamily(string? arch) => arch switch
    {
        null => null,
        "x86_64" or "i686" or "i386" => "x86",
        _ when arch.StartsWith("ppc", StringComparison.Ordinal) => "ppc",
        _ when arch.StartsWith("s390", StringComparison.Ordinal) => "s390",
        _ => arch,
    };
}
