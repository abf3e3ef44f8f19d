namespace VmDebug.Engine.Vmcore;

/// <summary>Rounding of file offsets to blocks and pages, shared by the ELF and kdump writers.</summary>
internal static class FileAlignment
{
    public static long AlignUp(long value, long alignment) => (value + alignment - 1) / alignment * alignment;
}
