using VmDebug.Engine.Qmp;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.Dump;

/// <summary>
/// QEMU accepts win-dmp for any guest, then fails asynchronously ("invalid vmcoreinfo note size") and leaves a
/// 0-byte file when the guest's vmcoreinfo note is not a Windows dump header. A one-page ELF probe reads the
/// note first, so the request is refused up front instead.
/// </summary>
internal static class WindowsDumpCheck
{
    // The virtio-win fwcfg driver hands QEMU a DUMP_HEADER64, which starts with "PAGEDU64".
    private static ReadOnlySpan<byte> WindowsHeaderSignature => "PAGEDU64"u8;

    public static async Task RequireWindowsDumpHeaderAsync(QmpClient client, DumpOutputFile output, CancellationToken cancellationToken)
    {
        var probe = output.CreateTemporary("probe");
        const string fdName = "vmdebug-probe"; // fixed, so a later getfd closes one a killed run left in QEMU
        await client.GetFdAsync(fdName, probe.SafeFileHandle, null, cancellationToken).ConfigureAwait(false);
        await client.DumpGuestMemoryAsync(new DumpGuestMemoryRequest("fd:" + fdName) { Paging = true, Begin = 0, Length = 4096 },
            null, cancellationToken).ConfigureAwait(false);
        ElfNote? note;
        using (var reader = VmcoreFile.Open(output.ReadPathOf(probe)))
        {
            note = reader.Notes.FirstOrDefault(n => n.Name == "VMCOREINFO");
        }
        output.Discard(probe);
        if (note is null || !note.Descriptor.AsSpan().StartsWith(WindowsHeaderSignature))
        {
            var what = note is null
                ? "the guest gave QEMU no vmcoreinfo note (no vmcoreinfo device, or no guest driver)"
                : "the guest's vmcoreinfo note is not a Windows dump header (this is not a Windows guest with the virtio-win fwcfg driver)";
            throw new VmDebugException("WinDmpNotAvailable", ErrorKind.InvalidArgument,
                $"A win-dmp dump of the guest behind '{client.SocketPath}' is impossible: {what}. Use Elf or a Kdump format.", client.SocketPath);
        }
    }
}
