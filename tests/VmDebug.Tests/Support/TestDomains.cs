using System.Security;
using VmDebug.Engine.Guest;

namespace VmDebug.Tests.Support;

/// <summary>Domain XML for tests: q35 under TCG (type='qemu'), no disks, no kernel: it sits in the firmware.</summary>
internal static class TestDomains
{
    public static string UniqueName(string purpose) => $"vmdebug-{purpose}-{Guid.NewGuid():N}"[..32];

    public static string Minimal(string name, Guid uuid, int memoryMiB = 256) => $"""
        <domain type='qemu'>
          <name>{SecurityElement.Escape(name)}</name>
          <uuid>{uuid}</uuid>
          <memory unit='MiB'>{memoryMiB}</memory>
          <vcpu>1</vcpu>
          <os><type arch='x86_64' machine='q35'>hvm</type></os>
          <on_crash>preserve</on_crash>
          <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>
        </domain>
        """;

    /// <summary>
    /// The project's test guest (scripts/build-guest.sh) booted directly from kernel and initramfs. It panics
    /// <paramref name="panicAfterSeconds"/> after /init; libvirt 9.0 only knows the ISA pvpanic model (the PCI one
    /// arrived in 9.1), and on_crash=preserve keeps the crashed guest for a dump. Without &lt;acpi/&gt; libvirt passes
    /// -no-acpi, the guest's qemu_fw_cfg driver finds no fw_cfg device and QEMU never receives the VMCOREINFO note.
    /// </summary>
    /// <param name="consoleLog">A file for the guest's serial console (its marker lines say /init has run), or none.</param>
    /// <param name="kernelArguments">More kernel arguments, e.g. sysctl.kernel.unknown_nmi_panic=1.</param>
    public static string PanickingGuest(string name, GuestImage guest, int panicAfterSeconds, int memoryMiB = 512, int markers = 0,
        string? consoleLog = null, string kernelArguments = "") => $"""
        <domain type='qemu'>
          <name>{SecurityElement.Escape(name)}</name>
          <memory unit='MiB'>{memoryMiB}</memory>
          <vcpu>1</vcpu>
          <os>
            <type arch='x86_64' machine='q35'>hvm</type>
            <kernel>{SecurityElement.Escape(guest.Kernel)}</kernel>
            <initrd>{SecurityElement.Escape(guest.Initrd)}</initrd>
            <cmdline>console=ttyS0 panic=0 quiet loglevel=6 vmdebug.markers={markers} vmdebug.panic_after={panicAfterSeconds} {SecurityElement.Escape(kernelArguments)}</cmdline>
          </os>
          <features><acpi/><vmcoreinfo state='on'/></features>
          <on_crash>preserve</on_crash>
          <devices>
            <emulator>/usr/bin/qemu-system-x86_64</emulator>
            <panic model='isa'/>{(consoleLog is null ? "" : $"<serial type='file'><source path='{SecurityElement.Escape(consoleLog)}'/><target port='0'/></serial>")}
          </devices>
        </domain>
        """;

    /// <summary>
    /// The test guest with nothing but <paramref name="kmsgDevices"/> (e.g. an org.vmdebug.kmsg channel): its /init
    /// copies /dev/kmsg into the port of that name and writes <paramref name="markers"/> lines at level err, then idles.
    /// </summary>
    public static string KmsgGuest(string name, GuestImage guest, string kmsgDevices, int markers, int memoryMiB = 256) => $"""
        <domain type='qemu'>
          <name>{SecurityElement.Escape(name)}</name>
          <memory unit='MiB'>{memoryMiB}</memory>
          <vcpu>1</vcpu>
          <os>
            <type arch='x86_64' machine='q35'>hvm</type>
            <kernel>{SecurityElement.Escape(guest.Kernel)}</kernel>
            <initrd>{SecurityElement.Escape(guest.Initrd)}</initrd>
            <cmdline>console=ttyS0 quiet loglevel=6 vmdebug.kmsg_port={GuestLaunchOptions.KmsgPortName} vmdebug.markers={markers} vmdebug.marker_level=3</cmdline>
          </os>
          <features><acpi/></features>
          <devices>
            <emulator>/usr/bin/qemu-system-x86_64</emulator>
            {kmsgDevices}
          </devices>
        </domain>
        """;

    /// <summary>A virtio channel named org.vmdebug.kmsg that QEMU listens on; no path: libvirt generates one.</summary>
    public static string KmsgChannel(string? socketPath) =>
        $"<channel type='unix'><source mode='bind'{(socketPath is null ? "" : $" path='{SecurityElement.Escape(socketPath)}'")}/>" +
        $"<target type='virtio' name='{GuestLaunchOptions.KmsgPortName}'/></channel>";
}
