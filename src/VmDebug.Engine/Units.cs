using System.Globalization;

namespace VmDebug.Engine;

/// <summary>Human-readable sizes for messages and progress (binary units, as QEMU and libvirt print them): the one byte-size formatter.</summary>
public static class Units
{
    private static readonly string[] Suffixes = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

    public static string FormatBytes(long bytes)
    {
        double value = bytes;
        var suffix = 0;
        while (Math.Abs(value) >= 1024 && suffix < Suffixes.Length - 1)
        {
            value /= 1024;
            suffix++;
        }

        return suffix == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B")
            : string.Create(CultureInfo.InvariantCulture, $"{value:0.#} {Suffixes[suffix]}");
    }
}
