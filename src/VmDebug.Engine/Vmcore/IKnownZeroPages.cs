namespace VmDebug.Engine.Vmcore;

/// <summary>
/// Optional for sources that know, without reading, where memory is zero (holes of a sparse file). Writers ask
/// before reading so runs of such pages cost neither I/O nor a zero scan.
/// </summary>
public interface IKnownZeroPages
{
    /// <summary>How many pages from <paramref name="pfn"/> on (at most <paramref name="maxPages"/>) are present and all zero.</summary>
    int KnownZeroPages(ulong pfn, int maxPages);
}
