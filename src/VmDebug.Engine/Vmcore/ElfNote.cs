namespace VmDebug.Engine.Vmcore;

/// <summary>An ELF note as found in a dump: name, type and descriptor bytes.</summary>
public sealed record ElfNote(string Name, uint Type, byte[] Descriptor);
