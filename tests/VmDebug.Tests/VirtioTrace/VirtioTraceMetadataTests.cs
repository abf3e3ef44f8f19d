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

    [Fact]
    public void AnEntryTypeTarReaderDoesNotReadIsAWarningNotACrash()
    {
        // A header whose type flag says GNU sparse file ('S'), its checksum made right.
        using var directory = new TempDirectory();
        var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Ustar, leaveOpen: true))
        {
            writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "./events/header_page") { DataStream = new MemoryStream([1, 2, 3]) });
        }
        var bytes = tar.ToArray();
        bytes[156] = (byte)'S';
        "        "u8.CopyTo(bytes.AsSpan(148));
        var sum = bytes.AsSpan(0, 512).ToArray().Sum(b => b);
        System.Text.Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(bytes.AsSpan(148));
        var path = Path.Combine(directory.Path, "metadata.tar");
        File.WriteAllBytes(path, bytes);
        var warnings = new List<string>();

        Assert.Null(VirtioTraceReceiver.ExtractMetadata(path, Path.Combine(directory.Path, "tracing"), 1 << 20, warnings, []));
        Assert.Contains("could not be unpacked", Assert.Single(warnings), StringComparison.Ordinal);
    }
}
