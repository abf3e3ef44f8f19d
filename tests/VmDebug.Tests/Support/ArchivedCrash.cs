using VmDebug.Engine.Fleet;

namespace VmDebug.Tests.Support;

/// <summary>A crash folder as a previous watcher would have left it: a dump of zeros and its crash.json.</summary>
public static class ArchivedCrash
{
    public static string Write(string archive, string guest, DateTimeOffset panicTime, int dumpBytes)
    {
        var folder = Path.Combine(archive, guest, CrashArchive.StampOf(panicTime));
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "vmcore.kdump"), new byte[dumpBytes]);
        CrashArchive.WriteCrashJson(folder, new GuestCrash
        {
            Guest = guest,
            Host = "test",
            PanicKind = "Panicked",
            PanicTime = panicTime,
            CaptureSeconds = 1,
            DumpFile = "vmcore.kdump",
            DumpFormat = DumpFormat.KdumpZstd,
            DumpLevel = 31,
            DumpBytes = dumpBytes,
            GuestRamBytes = 256 << 20,
            Path = folder,
            ArchivePath = archive,
        });
        return folder;
    }
}
