using System.CommandLine;
using VmDebug.Cli.Commands;

var root = new RootCommand(
    "vmdebug: crash debugging of QEMU/KVM guests. Dump guest memory, configure crash dumps, stream guest kernel logs.");
foreach (var command in CommandCatalog.All())
{
    root.Subcommands.Add(command);
}

var parse = root.Parse(args);
var exitCode = await parse.InvokeAsync();

// Usage errors exit 2, as POSIX tools do; System.CommandLine itself returns 1 for them.
return parse.Errors.Count > 0 ? 2 : exitCode;
