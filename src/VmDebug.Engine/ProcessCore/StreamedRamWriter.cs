namespace VmDebug.Engine.ProcessCore;

/// <summary>Takes the non-zero bytes at <paramref name="segmentOffset"/> of the mapping streamed during a compressed core's first pass.</summary>
internal delegate void StreamedRamWriter(long segmentOffset, ReadOnlySpan<byte> data);
