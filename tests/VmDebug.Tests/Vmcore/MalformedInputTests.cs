using System.Buffers.Binary;
using VmDebug.Engine.Compression;
using VmDebug.Engine.Vmcore;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Vmcore;

public sealed class MalformedInputTests : IDisposable
{
    private readonly string _dir = TempFiles.NewDirectory();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void EmptyAndForeignFilesAreRejected()
    {
        var empty = Path.Combine(_dir, "empty");
        File.WriteAllBytes(empty, []);
        Assert.Contains("empty", OpenFails(empty).Reason);

        var noise = Path.Combine(_dir, "noise");
        var bytes = new byte[10000];
        new Random(1).NextBytes(bytes);
        File.WriteAllBytes(noise, bytes);
        Assert.Contains("not an ELF vmcore", OpenFails(noise).Reason);

        var missing = Assert.Throws<VmDebug.Engine.VmDebugException>(() => VmcoreFile.Open(Path.Combine(_dir, "nope")));
        Assert.Equal("VmcoreNotFound", missing.ErrorId);
    }

    [Fact]
    public async Task KdumpHeaderFieldsAreBounded()
    {
        var good = await GoodKdumpAsync();
        Assert.Equal(428, OpenFails(Patched(good, "bs", f => Put32(f, 428, 3000))).Offset);
        Assert.Contains("do not fit", OpenFails(Patched(good, "bitmaps", f => Put32(f, 436, 1 << 30))).Reason);
        Assert.Contains("max_mapnr", OpenFails(Patched(good, "mapnr", f => Put64(f, 4096 + 96, ulong.MaxValue))).Reason);
        Assert.Contains("notes", OpenFails(Patched(good, "notes", f => Put64(f, 4096 + 56, 1UL << 40))).Reason);
        Assert.Contains("do not fit", OpenFails(Patched(good, "short", f => f.SetLength(6000))).Reason);
    }

    [Fact]
    public async Task BadPageDescriptorsFailOnRead()
    {
        var good = await GoodKdumpAsync();
        var descriptors = DescriptorTable(good);
        var firstPfn = 0UL; // the first descriptor: PFN 0, a zero page sharing the stored zero page

        var tooBig = Patched(good, "size", f => Put32(f, descriptors + 8, 5000));
        Assert.Contains("larger than a page", ReadFails(tooBig, firstPfn).Reason);

        var outside = Patched(good, "offset", f => Put64(f, descriptors, 1UL << 50));
        Assert.Contains("outside the file", ReadFails(outside, firstPfn).Reason);

        var flags = Patched(good, "flags", f => Put32(f, descriptors + 12, 0x3));
        Assert.Contains("conflicting compression flags", ReadFails(flags, firstPfn).Reason);

        var corrupt = Patched(good, "data", f =>
        {
            var offset = Read64(f, descriptors);
            f.Seek(offset, SeekOrigin.Begin);
            f.Write(new byte[] { 0x78, 0x01, 0xff, 0xff, 0xff, 0xff });
        });
        Assert.Contains("does not decompress", ReadFails(corrupt, firstPfn).Reason);
    }

    [Fact]
    public async Task ElfHeadersAndNotesAreBounded()
    {
        using var source = new SyntheticSource(SyntheticSource.SmallRanges, SyntheticSource.PlausibleVmcoreInfo);
        var good = await DumpFiles.WriteElfAsync(source, Path.Combine(_dir, "good.elf"));
        Assert.Contains("program headers", OpenFails(Patched(good, "phnum", f => Put16(f, 56, 0xfffe))).Reason);
        Assert.Contains("PN_XNUM", OpenFails(Patched(good, "xnum", f => Put16(f, 56, 0xffff))).Reason);
        Assert.Contains("little-endian ELF64", OpenFails(Patched(good, "class", f => Put8(f, 4, 1))).Reason);
        var notesAt = 64 + 8;
        var notesOffset = Read64(good, notesAt);
        Assert.Contains("note name size", OpenFails(Patched(good, "namesz", f => Put32(f, notesOffset, 0x7fffffff))).Reason);
        Assert.Contains("runs past", OpenFails(Patched(good, "descsz", f => Put32(f, notesOffset + 4, 0x10000))).Reason);
        Assert.Contains("PT_LOAD", OpenFails(Patched(good, "load", f => Put64(f, 64 + 56 + 32, 1UL << 50))).Reason);
    }

    [Fact]
    public async Task FlattenedStreamsMustBeCompleteAndInBounds()
    {
        var good = await GoodKdumpAsync();
        var flat = Path.Combine(_dir, "good.flat");
        DumpFiles.Flatten(good, flat, seed: 1);
        var length = new FileInfo(flat).Length;
        Assert.Contains("end marker", OpenFails(Patched(flat, "cut", f => f.SetLength(length - 16))).Reason);
        Assert.Contains("out of bounds", OpenFails(Patched(flat, "neg", f => Put64BigEndian(f, 4096, unchecked((ulong)-5L)))).Reason);
        Assert.Contains("out of bounds", OpenFails(Patched(flat, "huge", f => Put64BigEndian(f, 4096 + 8, 1UL << 40))).Reason);
        Assert.Contains("type", OpenFails(Patched(flat, "type", f => Put64BigEndian(f, 16, 2))).Reason);
    }

    private async Task<string> GoodKdumpAsync()
    {
        using var source = new SyntheticSource(SyntheticSource.SmallRanges, SyntheticSource.PlausibleVmcoreInfo);
        return await DumpFiles.WriteKdumpAsync(source, Path.Combine(_dir, "good.kdump"), PageCompression.Zlib);
    }

    private static long DescriptorTable(string kdump)
    {
        var header = File.ReadAllBytes(kdump).AsSpan(0, 464);
        var blockSize = BinaryPrimitives.ReadInt32LittleEndian(header[428..]);
        var subBlocks = BinaryPrimitives.ReadInt32LittleEndian(header[432..]);
        var bitmapBlocks = BinaryPrimitives.ReadInt32LittleEndian(header[436..]);
        return (1L + subBlocks + bitmapBlocks) * blockSize;
    }

    private VmcoreFormatException OpenFails(string path)
    {
        var error = Assert.Throws<VmcoreFormatException>(() => VmcoreFile.Open(path).Dispose());
        Assert.Equal(path, error.Path);
        Assert.Equal("VmcoreFormatInvalid", error.ErrorId);
        Assert.Contains(path, error.Message);
        return error;
    }

    private static VmcoreFormatException ReadFails(string path, ulong pfn)
    {
        using var reader = VmcoreFile.Open(path);
        var error = Assert.Throws<VmcoreFormatException>(() => reader.ReadPage(pfn, new byte[reader.PageSize]));
        Assert.Equal(path, error.Path);
        return error;
    }

    private string Patched(string original, string name, Action<FileStream> patch)
    {
        var path = Path.Combine(_dir, name + "-" + Path.GetFileName(original));
        File.Copy(original, path, overwrite: true);
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        patch(file);
        return path;
    }

    private static void Put8(FileStream f, long at, byte value) => Write(f, at, [value]);

    private static void Put16(FileStream f, long at, ushort value)
    {
        var b = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        Write(f, at, b);
    }

    private static void Put32(FileStream f, long at, uint value)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        Write(f, at, b);
    }

    private static void Put64(FileStream f, long at, ulong value)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        Write(f, at, b);
    }

    private static void Put64BigEndian(FileStream f, long at, ulong value)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(b, value);
        Write(f, at, b);
    }

    private static long Read64(FileStream f, long at)
    {
        var b = new byte[8];
        f.Seek(at, SeekOrigin.Begin);
        f.ReadExactly(b);
        return BinaryPrimitives.ReadInt64LittleEndian(b);
    }

    private static long Read64(string path, long at)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read);
        return Read64(f, at);
    }

    private static void Write(FileStream f, long at, byte[] bytes)
    {
        f.Seek(at, SeekOrigin.Begin);
        f.Write(bytes);
    }
}
