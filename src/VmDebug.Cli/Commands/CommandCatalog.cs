using System.CommandLine;

namespace VmDebug.Cli.Commands;

/// <summary>Every vmdebug subcommand, in the order --help lists them.</summary>
public static class CommandCatalog
{
    public static IEnumerable<Command> All() =>
    [
        DemoCommand.Create(),
        CoresCliCommand.Create(),
        CoreDumpCliCommand.Create(),
        PanicDeviceCliCommand.Create(),
        DumpCliCommand.Create(),
        ConvertCliCommand.Create(),
        KmsgCliCommand.Create(),
        LogCliCommand.Create(),
        CrashInfoCliCommand.Create(),
        MemUsageCliCommand.Create(),
        QmpCliCommand.Create(),
        WaitPanicCliCommand.Create(),
        PstoreCliCommand.Create(),
        TraceCliCommand.Create(),
        WatchCliCommand.Create(),
        CrashesCliCommand.Create(),
        NmiCliCommand.Create(),
    ];
}
