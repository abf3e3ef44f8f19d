namespace VmDebug.Tests.Support;

/// <summary>
/// Tests that assert timing bounds (e.g. a quiet guest's records within 100 ms of a flood) run alone, after the
/// parallel ones: parallel TCG guests and crash runs saturate both cores and would measure the machine, not VmDebug.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LatencySensitiveCollection
{
    public const string Name = "latency-sensitive";
}
