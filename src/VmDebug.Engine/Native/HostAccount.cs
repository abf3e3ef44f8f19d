namespace VmDebug.Engine.Native;

/// <summary>A resolved local account (getpwnam) with its supplementary groups (getgrouplist).</summary>
public sealed record HostAccount(string Name, uint Uid, uint Gid, IReadOnlyList<uint> Groups);
