namespace VmDebug.Fuzz;

/// <summary>One kind of input: its seeds, how a case is derived from a seed, and the engine code the case runs through.</summary>
internal sealed record FuzzKind(string Name, IReadOnlyList<byte[]> Seeds, Func<byte[], Mutator, byte[]> Mutate, Func<byte[], string, Task> Run);
