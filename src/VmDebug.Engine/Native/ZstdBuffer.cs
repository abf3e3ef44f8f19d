using System.Runtime.InteropServices;

namespace VmDebug.Engine.Native;

/// <summary>ZSTD_inBuffer and ZSTD_outBuffer share this layout: pointer, size, position.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ZstdBuffer
{
    public byte* Data;
    public nuint Size;
    public nuint Position;
}
