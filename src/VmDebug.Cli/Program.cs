using System.CommandLine;
using VmDebug.Cli.Commands;

var root = new RootCommand(
    "vmdebug: crash debugging of QEMU/KVM guests. Dump guest memory, configure crash dumps, stream guest kernel logs.");
foreach (var command in CommandCatalog.All())
{
    root.Subcommands.Add(command);
}

return await root.Parse(args).InvokeAsync();
