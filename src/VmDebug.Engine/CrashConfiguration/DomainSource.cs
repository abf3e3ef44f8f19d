namespace VmDebug.Engine.CrashConfiguration;

/// <summary>Where a domain definition comes from: a libvirt domain or an offline XML file, never both.</summary>
internal static class DomainSource
{
    /// <summary>Throws DomainSourceAmbiguous when both are given, or (when <paramref name="required"/>) neither.</summary>
    public static void Check(string? domain, string? xmlPath, bool required)
    {
        if (domain is not null && xmlPath is not null || required && domain is null && xmlPath is null)
        {
            throw new VmDebugException("DomainSourceAmbiguous", ErrorKind.InvalidArgument,
                "Give either a libvirt domain or a domain XML file, not both or neither.", domain ?? xmlPath);
        }
    }
}
