using Microsoft.Win32.SafeHandles;

namespace VmDebug.Engine.Interop;

/// <summary>Opens an input file for positional reads, turning "missing" and "denied" into typed errors that name it.</summary>
internal static class ReadOnlyFile
{
    /// <param name="errorPrefix">Error id stem: "Vmcore" gives VmcoreNotFound / VmcoreAccessDenied.</param>
    /// <param name="what">How the message names the file, e.g. "dump file".</param>
    public static SafeFileHandle Open(string path, FileOptions options, string errorPrefix, string what)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, options);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new VmDebugException(errorPrefix + "NotFound", ErrorKind.ObjectNotFound, $"{path}: the {what} does not exist.", path, e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new VmDebugException(errorPrefix + "AccessDenied", ErrorKind.PermissionDenied, $"{path}: permission denied reading the {what}.", path, e);
        }
    }
}
