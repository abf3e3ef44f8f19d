namespace VmDebug.Engine.Pstore;

/// <summary>One range of an e820 map: first and last byte, and its type as the kernel prints it ("usable", "reserved", …).</summary>
public sealed record E820Range(ulong First, ulong Last, string Type);
