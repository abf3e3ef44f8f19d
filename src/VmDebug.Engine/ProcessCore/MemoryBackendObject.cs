namespace VmDebug.Engine.ProcessCore;

/// <summary>A memory backend object from -object memory-backend-*: its id, type and size.</summary>
internal sealed record MemoryBackendObject(string Id, string Type, ulong? Size, string? MemPath);
