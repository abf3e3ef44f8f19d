namespace VmDebug.Engine.Pstore;

/// <summary>What a zone's header says about it.</summary>
internal enum ZoneState
{
    /// <summary>Signature and header good, content present.</summary>
    Valid,
    /// <summary>Signature good, nothing written (size 0).</summary>
    Empty,
    /// <summary>No ramoops signature: the zone was never set up here (or is garbage).</summary>
    NoSignature,
    /// <summary>Signature good but the header's start/size are impossible (the kernel would zap it).</summary>
    Invalid,
}
