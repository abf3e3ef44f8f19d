namespace VmDebug.Engine.ProcessCore;

/// <summary>
/// What a QEMU process core says about its guest: the QEMU command line, the guest-physical layout and the RAM
/// mapping. One analysis serves both extraction and listing.
/// </summary>
internal sealed class QemuCoreAnalysis
{
    private QemuCoreAnalysis(ProcessCoreFile core, IReadOnlyList<string> arguments, QemuCommandLine commandLine, GuestMemoryLayout layout,
        CoreSegment ram)
    {
        Core = core;
        Arguments = arguments;
        CommandLine = commandLine;
        Layout = layout;
        RamSegment = ram;
    }

    public ProcessCoreFile Core { get; }
    public IReadOnlyList<string> Arguments { get; }
    public QemuCommandLine CommandLine { get; }
    public GuestMemoryLayout Layout { get; }
    public CoreSegment RamSegment { get; }

    /// <summary>The RAM mapping was dumped (dump-guest-core=on); libvirt's default leaves it out (filesz 0).</summary>
    public bool IncludesGuestRam => RamSegment.FileSize == RamSegment.MemorySize;

    /// <summary>A core of qemu-system-* or qemu-kvm: by the kernel's comm (pr_fname) or by argv[0].</summary>
    public static bool IsQemu(ProcessCoreFile core)
    {
        static bool Named(string? name) =>
            name is not null && (name.StartsWith("qemu-system-", StringComparison.Ordinal) || name == "qemu-kvm" || name == "kvm");
        var argv0 = core.Arguments is { Count: > 0 } args ? System.IO.Path.GetFileName(args[0]) : null;
        // pr_fname is the 15-character comm: "qemu-system-x86" for qemu-system-x86_64.
        return Named(argv0) || Named(core.ProgramName) || core.ProgramName == "qemu-system-x86";
    }

    /// <summary>Analyses <paramref name="core"/>; throws a <see cref="ProcessCoreException"/> naming what is missing.</summary>
    public static QemuCoreAnalysis Analyze(ProcessCoreFile core, string? layoutOverride)
    {
        var path = core.Path;
        if (!IsQemu(core))
        {
            var what = core.ProgramName is { Length: > 0 } name ? $"'{name}'" : "an unknown program";
            throw new ProcessCoreException(ProcessCoreException.NotQemu, ErrorKind.InvalidArgument, path,
                $"this is a core of {what} (PID {core.Pid?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}), not of QEMU (qemu-system-x86_64 or qemu-kvm).");
        }
        var arguments = core.Arguments;
        if (arguments is null)
        {
            throw new ProcessCoreException(ProcessCoreException.CommandLineUnreadable, ErrorKind.InvalidData, path,
                $"QEMU's command line could not be read from the dumped stack (only the first 80 bytes survive in NT_PRPSINFO: '{core.PsArgs}'), "
                + "so the RAM size is unknown.")
            { Remedy = ProcessCoreException.LayoutRemedy(ExplicitRanges) };
        }
        var commandLine = QemuCommandLine.Parse(arguments);
        var layout = ChooseLayout(core, commandLine, layoutOverride);
        var ram = GuestRamLocator.Locate(core.Segments, core.MappedFileName, layout, commandLine, path);
        return new QemuCoreAnalysis(core, arguments, commandLine, layout, ram);
    }

    private const string ExplicitRanges = "with explicit ranges";

    private static GuestMemoryLayout ChooseLayout(ProcessCoreFile core, QemuCommandLine commandLine, string? layoutOverride)
    {
        var path = core.Path;
        var family = commandLine.Family;
        ulong? ramAddress = null;
        if (!string.IsNullOrWhiteSpace(layoutOverride))
        {
            var (named, explicitLayout, address) = GuestMemoryLayout.ParseOverride(layoutOverride, path);
            if (explicitLayout is not null)
            {
                return explicitLayout;
            }
            family = named == QemuMachineFamily.Unknown ? family : named;
            ramAddress = address;
        }
        else
        {
            if (commandLine.Errors.Count > 0)
            {
                throw new ProcessCoreException(ProcessCoreException.LayoutAmbiguous, ErrorKind.InvalidData, path,
                    $"QEMU's command line cannot be read for the RAM layout: {string.Join("; ", commandLine.Errors)}.")
                {
                    Remedy = ProcessCoreException.LayoutRemedy(ExplicitRanges),
                };
            }
            if (commandLine.UnmodelledMemory.Count > 0)
            {
                throw new ProcessCoreException(ProcessCoreException.LayoutAmbiguous, ErrorKind.InvalidData, path,
                    $"QEMU has memory outside its main RAM block ({string.Join(", ", commandLine.UnmodelledMemory)}), which VmDebug does not place "
                    + "in guest-physical space by itself.")
                { Remedy = ProcessCoreException.LayoutRemedy(ExplicitRanges + " for the main RAM block") };
            }
        }
        if (family == QemuMachineFamily.Unknown)
        {
            throw new ProcessCoreException(ProcessCoreException.MachineUnknown, ErrorKind.InvalidData, path,
                $"machine type '{commandLine.MachineType}' has no known RAM layout (VmDebug knows pc/pc-i440fx-* and q35/pc-q35-*).")
            { Remedy = ProcessCoreException.LayoutRemedy("'q35', 'pc' or explicit ranges such as '0x0-0x7fffffff@0,0x100000000-0x13fffffff@0x80000000'") };
        }
        var machineName = commandLine.MachineType ?? "pc";
        if (QemuCommandLine.FamilyOf(machineName) != family)
        {
            machineName = family == QemuMachineFamily.Q35 ? "q35" : "pc";
        }
        var layout = GuestMemoryLayout.ForMachine(family, commandLine.RamBytes, commandLine.MaxRamBelow4G, commandLine.GigabyteAlign, machineName);
        if (layout.MayCrossAmdHole)
        {
            throw new ProcessCoreException(ProcessCoreException.LayoutAmbiguous, ErrorKind.InvalidData, path,
                $"with {Units.FormatBytes((long)commandLine.RamBytes)} of RAM, QEMU places RAM above 4 GiB at 4 GiB or, on AMD hosts, at 1 TiB; "
                + "the core does not say which.")
            { Remedy = ProcessCoreException.LayoutRemedy(ExplicitRanges) };
        }
        return ramAddress is null ? layout : new GuestMemoryLayout(layout.Ranges, layout.Description, ramAddress);
    }
}
