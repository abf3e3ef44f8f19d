using System.Text;

namespace VmDebug.Engine.CrashConfiguration;

/// <summary>
/// The file's text is kept as Latin-1 chars (one char per byte) so an unedited byte always round-trips exactly;
/// the grammar itself is ASCII.
/// </summary>
internal static class LibvirtConfText
{
    public static readonly Encoding Bytes = Encoding.Latin1;
    public static string FromUtf8(string s) => Bytes.GetString(Encoding.UTF8.GetBytes(s));
    public static string ToUtf8(string s) => Encoding.UTF8.GetString(Bytes.GetBytes(s));
}
