using VmDebug.Engine.Compression;
using VmDebug.Engine.ProcessCore;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.ProcessCore;

/// <summary>
/// systemd-coredump's LZ4 cores that the fuzz harness found breaking the listing with untyped errors from the LZ4
/// decoder (each is lz4's frame of a real QEMU core's headers with one byte changed, or a second frame cut short):
/// Get-QemuCoreDump must name the file and say it cannot be decompressed.
/// </summary>
public sealed class CompressedCoreCorruptionTests
{
    [Theory]
    [InlineData("compressed-core-30d3a4aa40c0.bin", "one byte of the first block changed (the decoder's state check)")]
    [InlineData("compressed-core-2d7f172825a5.bin", "one byte of content changed (content checksum)")]
    [InlineData("compressed-core-1ad6c650db2a.bin", "a second frame cut short")]
    public void CorruptLz4CoresFailTyped(string name, string what)
    {
        using var directory = new TempDirectory();
        var core = Path.Combine(directory.Path, "core.qemu-system-x86.0.636b33439b7a4fda8099c648bfa99308.4242.1764598011000000.lz4");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Support", "TestData", "fuzz", name), core);

        var listing = Assert.Throws<CompressionException>(() => QemuCoreDumpFinder.Inspect(core, CancellationToken.None));
        Assert.True(listing.ErrorId == "CompressedCoreCorrupt", what);
        Assert.Contains(core, listing.Message, StringComparison.Ordinal);
        Assert.Contains("LZ4", listing.Message, StringComparison.Ordinal);

        var opening = Assert.Throws<CompressionException>(() => CompressedCoreFile.Open(core, VmDebug.CoreFileCompression.Lz4, CancellationToken.None).Dispose());
        Assert.Equal("CompressedCoreCorrupt", opening.ErrorId);
    }
}
