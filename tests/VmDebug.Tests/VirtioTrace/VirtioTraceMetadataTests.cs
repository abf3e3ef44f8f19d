using System.Formats.Tar;
using VmDebug.Engine.VirtioTrace;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.VirtioTrace;

/// <summary>Metadata archives the fuzz harness found unpacked with an untyped error; minimised from the saved cases.</summary>
public sealed class VirtioTraceMetadataTests
{
    [Fact]
    public void AFileEntryNamedLikeADirectoryIsAWarningNotACrash()
    {
        // The guest's tar with a directory entry's type flag changed to a regular file: "events/" cannot be created as a file.
        using var directory = new TempDirectory();
        var tar = Path.Combine(directory.Path, "metadata.tar");
        using (var file = File.Create(tar))
        using (var writer = new TarWriter(file, TarEntryFormat.Ustar))
        {
            writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "./events/"));
        }
        var warnings = new List<string>();

        var unpacked = VirtioTraceReceiver.ExtractMetadata(tar, Path.Combine(directory.Path, "tracing"), 1 << 20, warnings, []);

        Assert.Null(unpacked);
        var warning = Assert.Single(warnings);
        Assert.Contains(tar, warning, StringComparison.Ordinal);
        Assert.Contains("could not be unpacked", warning, StringComparison.Ordinal);
    }
}
