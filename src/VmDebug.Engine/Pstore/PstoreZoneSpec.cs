namespace VmDebug.Engine.Pstore;

/// <summary>One zone of the region: what it holds, its place, and the value its signature is XORed with (null: a kernel version code).</summary>
internal sealed record PstoreZoneSpec(PstoreKind Kind, int Index, ulong Address, ulong Size, uint? SignatureXor);
