using VmDebug.Engine.Compression;

namespace VmDebug.Engine.Vmcore;

/// <summary>
/// Optional for sources that already hold pages compressed the way a kdump file stores them (the streaming dump's
/// spool): the kdump writer copies those bytes instead of decompressing and compressing every page again.
/// </summary>
internal interface IStoredPages
{
    /// <summary>The codec the stored pages use.</summary>
    PageCompression StoredCompression { get; }

    /// <summary>
    /// Copies page <paramref name="pfn"/> as stored into <paramref name="destination"/> and returns its length: the
    /// page size when it is stored uncompressed (<paramref name="compressed"/> false), 0 for an all-zero page, -1
    /// when the source has no such page.
    /// </summary>
    int ReadStored(ulong pfn, Span<byte> destination, out bool compressed);
}
