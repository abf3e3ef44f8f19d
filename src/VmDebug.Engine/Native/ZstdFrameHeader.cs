using System.Runtime.InteropServices;

namespace VmDebug.Engine.Native;

/// <summary>
/// ZSTD_frameHeader (zstd.h): the fields read here come first in every libzstd 1.4 and 1.5; the padding covers the
/// fields later versions append.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ZstdFrameHeader
{
    public const uint SkippableFrame = 1; // ZSTD_skippableFrame

    public ulong FrameContentSize;
    public ulong WindowSize;
    public uint BlockSizeMax;
    public uint FrameType;
    public uint HeaderSize;
    public uint DictionaryId;
    public uint ChecksumFlag;
    private unsafe fixed uint _reserved[9];
}
