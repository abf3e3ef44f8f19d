namespace VmDebug.Engine.ProcessCore;

/// <summary>A decompressed file handed over front to back in chunks of whole 4 KiB pages (only the last may end mid-page).</summary>
internal interface IDecompressedChunks : IDisposable
{
    /// <summary>
    /// The next chunk, <paramref name="length"/> bytes at <paramref name="start"/> of <paramref name="buffer"/>; false at
    /// the end of the data. The previous chunk's bytes may be overwritten from this call on. Rethrows a decompression error.
    /// </summary>
    bool TryNext(out byte[] buffer, out int start, out int length);
}
