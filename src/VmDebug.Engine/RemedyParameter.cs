namespace VmDebug.Engine;

/// <summary>A parameter (cmdlet) or option (CLI) a remedy names; each front end spells it its own way.</summary>
public enum RemedyParameter
{
    Domain,
    Force,
    Format,
    GuestMemoryLayout,
    IncludeGuestMemory,
}
