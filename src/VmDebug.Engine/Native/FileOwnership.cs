namespace VmDebug.Engine.Native;

/// <summary>Owner, group and permission bits of a file.</summary>
public readonly record struct FileOwnership(uint Uid, uint Gid, UnixFileMode Mode, bool IsDirectory);
