using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace VmDebug.Engine.Pstore;

/// <summary>
/// The two headers of a dmesg record: ramoops's "====sec.usec-C|D\n" (ramoops_write_kmsg_hdr; the older
/// "====sec.usec\n" too, as ramoops_read_kmsg_hdr accepts it), and pstore's "Reason#count PartN\n" that opens the
/// (decompressed) payload.
/// </summary>
internal static partial class PstoreDmesgHeader
{
    /// <summary>Header length, time and compression; null when the zone starts with no ramoops header (the kernel zaps such zones).</summary>
    public static (int Length, DateTimeOffset Time, bool Compressed)? ParseRamoopsHeader(ReadOnlySpan<byte> content)
    {
        var head = Encoding.ASCII.GetString(content[..Math.Min(content.Length, 48)]);
        var match = RamoopsHeader().Match(head);
        if (!match.Success)
        {
            return null;
        }
        var seconds = long.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 0;
        var micros = long.TryParse(match.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var u) && u < 1_000_000 ? u : 0;
        var time = seconds is >= 0 and <= 253402300799
            ? DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(micros * 10)
            : DateTimeOffset.UnixEpoch;
        return (match.Length, time, match.Groups[3].Value == "C");
    }

    /// <summary>Reason, count and part of a payload; null when it does not open with pstore's line.</summary>
    public static (string Reason, int Count, int Part)? ParsePayloadHeader(ReadOnlySpan<byte> payload)
    {
        var head = Encoding.ASCII.GetString(payload[..Math.Min(payload.Length, 64)]);
        var match = PayloadHeader().Match(head);
        if (!match.Success)
        {
            return null;
        }
        return (match.Groups[1].Value,
            int.TryParse(match.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var count) ? count : 0,
            int.TryParse(match.Groups[3].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var part) ? part : 0);
    }

    [GeneratedRegex(@"\A====(\d{1,20})\.(\d{1,20})(?:-([CD]))?\n")]
    private static partial Regex RamoopsHeader();

    [GeneratedRegex(@"\A([A-Za-z]{1,16})#(\d{1,10}) Part(\d{1,10})\n")]
    private static partial Regex PayloadHeader();
}
