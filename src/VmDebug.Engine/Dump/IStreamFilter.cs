namespace VmDebug.Engine.Dump;

/// <summary>Which pages of QEMU's stream a reader does not want, decided while the stream runs.</summary>
internal interface IStreamFilter
{
    /// <summary>Blocks the stream's reading thread until the frames from <paramref name="firstPfn"/> on can be told apart.</summary>
    void WaitUntilDecided(ulong firstPfn, int count, CancellationToken cancellationToken);

    /// <summary>True when page <paramref name="pfn"/> is not wanted (called only after <see cref="WaitUntilDecided"/>).</summary>
    bool Drops(ulong pfn);
}
