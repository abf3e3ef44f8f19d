using System.CommandLine;

namespace VmDebug.Cli.Commands;

/// <summary>Every vmdebug subcommand, in the order --help lists them.</summary>
public static class CommandCatalog
{
    public static IEnumerable<Command> All() =>
    [
        DemoCommand.Create(),
        DumpCliCommand.Create(),
        KmsgCliCommand.Create(),
        QmpCliCommand.Create(),
        WaitPanicCliCommand.Create(),
    ];
}
