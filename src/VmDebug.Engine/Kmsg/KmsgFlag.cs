namespace VmDebug;

/// <summary>The flag field of a /dev/kmsg record.</summary>
public enum KmsgFlag
{
    /// <summary>'-': a complete record.</summary>
    None,
    /// <summary>'c': the first fragment of a continued line.</summary>
    ContinuationStart,
    /// <summary>'+': a fragment continuing the previous record.</summary>
    Continuation,
}
