namespace VmDebug.Engine;

/// <summary>A command a remedy names: a cmdlet in PowerShell, a subcommand of vmdebug on the command line.</summary>
public enum RemedyCommand
{
    ConvertVmcore,
    EnableQemuCoreDump,
    WatchGuestPanic,
}
