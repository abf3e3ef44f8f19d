using System.CommandLine;

namespace VmDebug.Cli.Commands;

/// <summary>Every vmdebug subcommand by name, in the order --help lists them.</summary>
public static class CommandCatalog
{
    private static readonly (string Name, Func<Command> Create)[] Entries =
    [
        ("demo", DemoCommand.Create),
        ("cores", CoresCliCommand.Create),
        ("coredump", CoreDumpCliCommand.Create),
        ("panic-device", PanicDeviceCliCommand.Create),
        ("dump", DumpCliCommand.Create),
        ("convert", ConvertCliCommand.Create),
        ("kmsg", KmsgCliCommand.Create),
        ("log", LogCliCommand.Create),
        ("crash-info", CrashInfoCliCommand.Create),
        ("mem-usage", MemUsageCliCommand.Create),
        ("qmp", QmpCliCommand.Create),
        ("wait-panic", WaitPanicCliCommand.Create),
        ("pstore", PstoreCliCommand.Create),
        ("trace", TraceCliCommand.Create),
        ("watch", WatchCliCommand.Create),
        ("crashes", CrashesCliCommand.Create),
        ("nmi", NmiCliCommand.Create),
    ];

    public static IReadOnlyList<string> Names => Array.ConvertAll(Entries, entry => entry.Name);

    public static IEnumerable<Command> All() => Entries.Select(entry => entry.Create());

    /// <summary>
    /// The command tree a command line needs. A line that names a subcommand and asks for no help or version gets only
    /// that subcommand, under a plain root: building all 17 with their options, and RootCommand's help option (which
    /// loads System.CommandLine's resources), took a third of a short run such as `vmdebug log`. Anything else gets
    /// the whole tree under RootCommand, for --help, --version and suggestions for a misspelt name.
    /// </summary>
    public static Command RootFor(IReadOnlyList<string> args)
    {
        var index = args.Count > 0 ? Array.FindIndex(Entries, entry => entry.Name == args[0]) : -1;
        if (index >= 0 && !args.Any(NeedsRootOptions))
        {
            return new Command(ProgramName) { Entries[index].Create() };
        }

        var root = new RootCommand(
            "vmdebug: crash debugging of QEMU/KVM guests. Dump guest memory, configure crash dumps, stream guest kernel logs.");
        foreach (var command in All())
        {
            root.Subcommands.Add(command);
        }

        return root;
    }

    public const string ProgramName = "vmdebug";

    // RootCommand's own options (help and version, in every spelling System.CommandLine accepts) and response files,
    // which may hold them.
    private static bool NeedsRootOptions(string arg) =>
        arg is "-h" or "--help" or "-?" or "/h" or "/?" or "--version" || arg.StartsWith('@');
}
