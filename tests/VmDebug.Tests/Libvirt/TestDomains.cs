using System.Security;

namespace VmDebug.Tests.Libvirt;

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
}
