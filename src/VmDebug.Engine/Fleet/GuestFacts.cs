using System.Globalization;
using System.Text;
using System.Xml.Linq;
using VmDebug.Engine.Libvirt;
using VmDebug.Engine.Qmp;

namespace VmDebug.Engine.Fleet;

/// <summary>What the archive records about the guest besides its memory: RAM size, QEMU version and command line, libvirt XML.</summary>
internal sealed record GuestFacts(ulong RamBytes, string? QemuVersion, string? CommandLine, string? DomainXml)
{
    private const int MaxCommandLineBytes = 256 * 1024;

    public static async Task<GuestFacts> ReadAsync(PanicNotice notice, CancellationToken cancellationToken)
    {
        if (notice.QmpSocket is { } socket)
        {
            await using var client = await QmpClient.ConnectAsync(socket, new QmpClientOptions { HandshakeTimeout = TimeSpan.FromSeconds(10) }, cancellationToken)
                .ConfigureAwait(false);
            var version = await client.QueryVersionAsync(null, cancellationToken).ConfigureAwait(false);
            var memory = await client.ExecuteAsync("query-memory-size-summary", null, null, cancellationToken).ConfigureAwait(false);
            var ram = (memory?["base-memory"]?.GetValue<ulong>() ?? 0) + (memory?["plugged-memory"]?.GetValue<ulong>() ?? 0);
            var pid = CrashConfiguration.UnixSocketPeer.TryGetListenerProcessId(socket);
            return new GuestFacts(ram, version.ToString(), pid is { } p ? ReadCommandLine(p) : null, null);
        }

        using var connection = LibvirtConnection.Open(notice.ConnectionUri);
        using var domain = connection.LookupDomain(notice.Domain!);
        var xml = domain.GetXmlDesc();
        return new GuestFacts(RamOf(xml), connection.GetVersion().ToString(), null, xml);
    }

    /// <summary>/proc/PID/cmdline with its NULs as spaces, bounded and escaped for display.</summary>
    private static string? ReadCommandLine(int pid)
    {
        try
        {
            using var stream = File.OpenRead($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline");
            var buffer = new byte[MaxCommandLineBytes];
            var length = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            var words = Encoding.UTF8.GetString(buffer, 0, length).TrimEnd('\0').Split('\0');
            return KmsgText.EscapeForDisplay(string.Join(' ', words.Select(Quote)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string Quote(string word) => word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_=,./:@+".Contains(c))
        ? word
        : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>The domain's current memory in bytes (&lt;currentMemory&gt;, else &lt;memory&gt;, in their unit).</summary>
    private static ulong RamOf(string xml)
    {
        var root = XDocument.Parse(xml).Root;
        var element = root?.Element("currentMemory") ?? root?.Element("memory");
        if (element is null || !ulong.TryParse(element.Value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            return 0;
        }
        var unit = ((string?)element.Attribute("unit") ?? "KiB").ToUpperInvariant();
        var scale = unit switch
        {
            "B" or "BYTES" => 1UL,
            "K" or "KIB" => 1UL << 10,
            "M" or "MIB" => 1UL << 20,
            "G" or "GIB" => 1UL << 30,
            "KB" => 1000UL,
            "MB" => 1000_000UL,
            "GB" => 1000_000_000UL,
            _ => 1UL << 10,
        };
        return amount * scale;
    }
}
