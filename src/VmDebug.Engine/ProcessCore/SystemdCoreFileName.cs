using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace VmDebug.Engine.ProcessCore;

/// <summary>
/// What systemd-coredump puts in a stored core's name, core.COMM.UID.BOOTID.PID.USEC[.zst|.lz4|.xz]
/// (src/coredump/coredump.c make_filename: COMM with '.', '/' and ' ' escaped as \xNN, boot id as 32 hex digits,
/// time in microseconds since the epoch), read without coredumpctl or the journal.
/// </summary>
internal sealed partial record SystemdCoreFileName(string Comm, int Uid, string BootId, int Pid, DateTimeOffset Time, VmDebug.CoreFileCompression Compression)
{
    [GeneratedRegex(@"^core\.(?<comm>[^.]+)\.(?<uid>[0-9]{1,10})\.(?<boot>[0-9a-f]{32})\.(?<pid>[0-9]{1,10})\.(?<usec>[0-9]{1,19})(?:\.(?<ext>zst|lz4|xz))?$",
        RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex Pattern();

    public static SystemdCoreFileName? TryParse(string fileName)
    {
        var match = Pattern().Match(fileName);
        if (!match.Success
            || !int.TryParse(match.Groups["uid"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var uid)
            || !int.TryParse(match.Groups["pid"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == 0
            || !long.TryParse(match.Groups["usec"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var usec)
            || usec > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds() * 1000)
        {
            return null;
        }
        var compression = match.Groups["ext"].Value switch
        {
            "zst" => VmDebug.CoreFileCompression.Zstd,
            "lz4" => VmDebug.CoreFileCompression.Lz4,
            "xz" => VmDebug.CoreFileCompression.Xz,
            _ => VmDebug.CoreFileCompression.None,
        };
        return new SystemdCoreFileName(Unescape(match.Groups["comm"].Value), uid, match.Groups["boot"].Value, pid,
            DateTimeOffset.UnixEpoch.AddTicks(usec * 10), compression);
    }

    private static string Unescape(string text)
    {
        var result = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 3 < text.Length && text[i + 1] == 'x'
                && byte.TryParse(text.AsSpan(i + 2, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
            {
                result.Append((char)value);
                i += 3;
                continue;
            }
            result.Append(text[i]);
        }
        return result.ToString();
    }

    /// <summary>qemu-system-* (comm is cut to 15 characters: "qemu-system-x86"), qemu-kvm, kvm.</summary>
    public bool IsQemu => Comm.StartsWith("qemu-system-", StringComparison.Ordinal) || Comm is "qemu-kvm" or "kvm";
}
