using System.Diagnostics;
using System.Security;
using System.Text.Json.Nodes;
using VmDebug.Engine.Libvirt;
using VmDebug.Engine.ProcessCore;
using VmDebug.Engine.Vmcore;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.ProcessCore;

/// <summary>
/// The QEMU that admins run, started by the private libvirtd from domain XML: its JSON -object/-device command line,
/// versioned machine type and memory-backend=pc.ram. Guest RAM goes into cores through Enable-QemuCoreDump's engine
/// (vmdebug coredump enable --guest-memory --restart-daemon); SIGABRT leaves the core in QEMU's working directory,
/// "/" under libvirt (core_pattern "core", left as it is). Its vmcore must equal libvirt's own memory-only dump of
/// the same paused domain page for page, and crash must read the guest's log from it.
/// </summary>
[Collection(LibvirtDaemonCollection.Name)]
public sealed class LibvirtProcessCoreTests(LibvirtDaemonFixture daemon) : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("vmdebug-libvirt-core-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private static void Log(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    [Fact]
    public async Task TheCoreOfLibvirtsQemuGivesLibvirtsOwnDumpAndCrashReadsItsLog()
    {
        daemon.SkipIfUnavailable();
        ProcessCoreCapture.RequirePlainCorePattern();
        var ct = TestContext.Current.CancellationToken;
        var guest = TestEnvironment.GuestWithDebugSymbols;
        var conf = daemon.QemuConfPath;
        var originalConf = File.ReadAllBytes(conf);
        var name = TestDomains.UniqueName("core");
        var console = Path.Combine(_scratch, "console.log");
        string? core = null;
        try
        {
            var enable = await Support.Cli.RunAsync("coredump", "enable", "--config", conf, "--guest-memory", "--connect", daemon.Uri, "--restart-daemon", "--json");
            Assert.True(enable.ExitCode == 0, enable.Stderr);

            using var connection = daemon.Connect();
            using var domain = connection.DefineDomain(DomainXml(name, guest.Kernel, guest.Initrd, console));
            domain.Create();
            var qemu = daemon.QemuProcessId(name);
            var commandLine = File.ReadAllText($"/proc/{qemu}/cmdline").Split('\0');
            Log(string.Join(' ', commandLine));
            Assert.Contains(commandLine, a => a.Contains("memory-backend=pc.ram", StringComparison.Ordinal));
            Assert.Contains(commandLine, a => a.StartsWith("{\"qom-type\":\"memory-backend-ram\"", StringComparison.Ordinal));
            Assert.Contains(commandLine, a => a.StartsWith("pc-q35-", StringComparison.Ordinal));

            var clock = Stopwatch.StartNew();
            while (!File.Exists(console) || !File.ReadAllText(console).Contains("vmdebug marker 3", StringComparison.Ordinal))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), "the guest did not print its markers within 2 minutes");
                await Task.Delay(200, ct);
            }
            domain.QemuMonitorCommand("""{"execute":"stop"}""");
            var reference = Path.Combine(_scratch, "libvirt.vmcore");
            await LibvirtDumpOperation.DumpAsync(domain, reference, LibvirtDumpFormat.KdumpZlib, null, ct);

            core = await AbortAsync(qemu, ct);
            var dump = await Support.Cli.RunAsync("dump", "--core-file", core, "--output", Path.Combine(_scratch, "core.vmcore"), "--json");
            Assert.True(dump.ExitCode == 0, dump.Stderr);
            var result = JsonNode.Parse(dump.Stdout)!;
            Assert.Equal(2L << 30, (long)result["guestRamBytes"]!);
            Assert.Empty(result["warnings"]!.AsArray());
            File.Delete(core);
            core = null;

            using (var expected = VmcoreFile.Open(reference))
            using (var actual = VmcoreFile.Open((string)result["path"]!))
            {
                var (compared, mismatches, onlyInReference, _) = ProcessCoreCapture.ComparePages(expected, actual);
                Log($"{compared} pages compared; ranges {string.Join(", ", actual.Ranges.Select(r => $"0x{r.Start:x}+0x{r.Length:x}"))}");
                Assert.True(onlyInReference.Count == 0, $"{onlyInReference.Count} pages of libvirt's dump are missing, first at pfn 0x{onlyInReference.FirstOrDefault():x}");
                Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {compared} pages differ, first at pfn 0x{mismatches.FirstOrDefault():x}");
            }
            var log = await PeerTools.CrashLogAsync(guest.Vmlinux!, (string)result["path"]!);
            Assert.Contains("vmdebug marker 3", log);
        }
        finally
        {
            if (core is not null)
            {
                File.Delete(core);
            }
            await daemon.RemoveDomainAsync(name, Log);
            await File.WriteAllBytesAsync(conf, originalConf, CancellationToken.None);
            var restore = await Support.Cli.RunAsync("coredump", "disable", "--config", conf, "--connect", daemon.Uri, "--restart-daemon", "--force", "--json");
            Log($"restore: exit {restore.ExitCode} {restore.Stderr}");
        }
    }

    /// <summary>
    /// q35, 2 GiB, VGA (libvirt 9.0's default model here is cirrus, whose video RAM a process core cannot place: its
    /// mapping follows the card's registers, so VmDebug leaves it out with a warning), the test guest booted directly.
    /// </summary>
    private static string DomainXml(string name, string kernel, string initrd, string console) => $"""
        <domain type='qemu'>
          <name>{SecurityElement.Escape(name)}</name>
          <memory unit='MiB'>2048</memory>
          <vcpu>1</vcpu>
          <os>
            <type arch='x86_64' machine='q35'>hvm</type>
            <kernel>{SecurityElement.Escape(kernel)}</kernel>
            <initrd>{SecurityElement.Escape(initrd)}</initrd>
            <cmdline>console=ttyS0 panic=0 quiet loglevel=6 vmdebug.markers=3</cmdline>
          </os>
          <features><acpi/><vmcoreinfo state='on'/></features>
          <on_crash>preserve</on_crash>
          <devices>
            <emulator>/usr/bin/qemu-system-x86_64</emulator>
            <serial type='file'><source path='{SecurityElement.Escape(console)}'/><target port='0'/></serial>
            <video><model type='vga'/></video>
          </devices>
        </domain>
        """;

    /// <summary>SIGABRT to libvirt's QEMU; its core is /core (core_pattern "core", working directory "/"), checked to be this QEMU's.</summary>
    private static async Task<string> AbortAsync(int qemu, CancellationToken ct)
    {
        Assert.Equal(0, Kill(qemu, ProcessCoreCapture.Sigabrt));
        var clock = Stopwatch.StartNew();
        while (Directory.Exists($"/proc/{qemu}"))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), "QEMU did not exit within 2 minutes of SIGABRT");
            await Task.Delay(100, ct);
        }
        var core = ProcessCoreCapture.FindCore("/", qemu);
        using var parsed = ProcessCoreFile.Open(core, ct);
        Assert.Equal(qemu, parsed.Pid);
        return core;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
