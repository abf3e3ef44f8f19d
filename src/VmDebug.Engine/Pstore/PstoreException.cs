namespace VmDebug.Engine.Pstore;

/// <summary>The guest's pstore/ramoops records cannot be read; <see cref="VmDebugException.ErrorId"/> says which case it is.</summary>
public sealed class PstoreException : VmDebugException
{
    /// <summary>No layout was given and the guest's command line names no ramoops region.</summary>
    public const string NotConfigured = "PstoreNotConfigured";
    /// <summary>The layout given or read is impossible (zones do not fit, sizes out of bounds).</summary>
    public const string LayoutInvalid = "PstoreLayoutInvalid";
    /// <summary>The region lies outside the guest's RAM, or the source lacks its pages.</summary>
    public const string RegionUnreadable = "PstoreRegionUnreadable";
    /// <summary>No zone of the region carries the ramoops signature: ramoops never attached there.</summary>
    public const string NoRegion = "PstoreNoRegion";
    /// <summary>The guest panicked but its dmesg zones are empty: it was stopped (pvpanic, pause) before pstore wrote.</summary>
    public const string PausedBeforeWrite = "PstorePausedBeforeWrite";

    /// <summary>Set-GuestPstore: the region cannot go where asked, or nowhere fits in the guest's usable RAM.</summary>
    public const string AddressUnusable = "PstoreAddressUnusable";

    public PstoreException(string errorId, ErrorKind kind, string source, string message, Exception? inner = null)
        : base(errorId, kind, $"{source}: {message}", source, inner)
    {
    }
}
