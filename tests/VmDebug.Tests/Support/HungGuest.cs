using System.Diagnostics;
using System.Security;
using VmDebug.Engine.Guest;

namespace VmDebug.Tests.Support;

/// <summary>
/// The test guest told to panic on an unknown NMI (sysctl.kernel.unknown_nmi_panic=1, applied by the kernel before
/// /init runs) whose /init then spins in a busy loop (vmdebug.hang=1): a hung guest as Send-GuestNmi meets it.
/// </summary>
internal static class HungGuest
{
    public const string HangingLine = "vmdebug: hanging in a busy loop";
    public static readonly string[] KernelArguments = ["sysctl.kernel.unknown_nmi_panic=1", "vmdebug.hang=1"];

    public static GuestLaunchOptions LaunchOptions => new() { MemoryMiB = 256, KernelArguments = KernelArguments };

    /// <summary>A libvirt domain of the test guest, hung the same way, with the ISA pvpanic device libvirt 9.0 knows and
    /// its console in <paramref name="consoleLog"/>; on_crash preserve keeps the panicked guest.</summary>
    public static string DomainXml(string name, GuestImage guest, string consoleLog) => $"""
        <domain type='qemu'>
          <name>{SecurityElement.Escape(name)}</name>
          <memory unit='MiB'>256</memory>
          <vcpu>1</vcpu>
          <os>
            <type arch='x86_64' machine='q35'>hvm</type>
            <kernel>{SecurityElement.Escape(guest.Kernel)}</kernel>
            <initrd>{SecurityElement.Escape(guest.Initrd)}</initrd>
            <cmdline>console=ttyS0 panic=0 quiet loglevel=6 {string.Join(' ', KernelArguments)}</cmdline>
          </os>
          <features><acpi/><vmcoreinfo state='on'/></features>
          <on_crash>preserve</on_crash>
          <devices>
            <emulator>/usr/bin/qemu-system-x86_64</emulator>
            <serial type='file'><source path='{SecurityElement.Escape(consoleLog)}'/><target port='0'/></serial>
            <panic model='isa'/>
          </devices>
        </domain>
        """;

    /// <summary>Waits until the console shows that /init is spinning (TCG on a loaded machine boots slowly).</summary>
    public static async Task WaitUntilHungAsync(Func<string> readConsole, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (!readConsole().Contains(HangingLine, StringComparison.Ordinal))
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(3))
            {
                Assert.Fail($"The guest did not reach its busy loop within 3 minutes. Console:\n{readConsole()}");
            }

            await Task.Delay(250, cancellationToken);
        }
    }

    public static string ReadShared(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return new StreamReader(stream).ReadToEnd();
        }
        catch (FileNotFoundException)
        {
            return "";
        }
    }
}
