namespace VmDebug.Engine.Libvirt;

/// <summary>Domain names for tab completion: read-only, quiet on failure (completion must never throw).</summary>
public static class DomainNames
{
    public static IReadOnlyList<string> Complete(string? connectionUri, string prefix)
    {
        try
        {
            using var connection = LibvirtConnection.Open(connectionUri ?? LibvirtConnection.DefaultUri, readOnly: true);
            return connection.ListAllDomains()
                .Select(d => { using (d) { return d.Name; } })
                .Where(n => n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .Order(StringComparer.Ordinal)
                .ToList();
        }
        catch (VmDebugException)
        {
            return [];
        }
        catch (DllNotFoundException)
        {
            return [];
        }
    }
}
