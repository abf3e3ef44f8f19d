using System.CommandLine;
using VmDebug.Engine.Pstore;

namespace VmDebug.Cli.Commands;

/// <summary>
/// vmdebug pstore (--input PATH | --core-file PATH | --socket PATH | --domain NAME [--connect URI]) [--pause]
/// [--mem-address A --mem-size S --record-size … --console-size … --ftrace-size … --pmsg-size … --ecc N] [--json].
/// Prints each PstoreRecord (one JSON object per line with --json); warnings go to stderr.
/// </summary>
public static class PstoreCliCommand
{
    public static Command Create()
    {
        var target = GuestKernelTargetOptions.Create();
        var memAddress = SizeOption("--mem-address", "ramoops.mem_address: guest-physical start of the region (0x… or decimal).");
        var memSize = SizeOption("--mem-size", "ramoops.mem_size: bytes of the region.");
        var recordSize = SizeOption("--record-size", "ramoops.record_size: bytes of each dmesg zone (default 4096).");
        var consoleSize = SizeOption("--console-size", "ramoops.console_size (default 4096).");
        var ftraceSize = SizeOption("--ftrace-size", "ramoops.ftrace_size (default 4096).");
        var pmsgSize = SizeOption("--pmsg-size", "ramoops.pmsg_size (default 4096).");
        var ecc = new Option<int?>("--ecc") { Description = "ramoops.ecc: parity bytes per 128-byte block (1 means 16); 0 for none." };
        var json = CliCommand.JsonOption();
        var command = new Command("pstore", "Read the guest's pstore/ramoops records (the panic's dmesg dump, console, ftrace, pmsg) from its "
            + "physical memory, live or from a dump, without rebooting it. The layout comes from the options, else from the guest's command line.")
        {
            memAddress, memSize, recordSize, consoleSize, ftraceSize, pmsgSize, ecc, json,
        };
        target.AddTo(command);
        command.SetOutputAction(json, async (parse, asJson, _, cancellationToken) =>
        {
            var result = await PstoreReader.ReadAsync(new PstoreRequest
            {
                Target = target.Get(parse),
                MemAddress = parse.GetValue(memAddress),
                MemSize = parse.GetValue(memSize),
                RecordSize = parse.GetValue(recordSize),
                ConsoleSize = parse.GetValue(consoleSize),
                FtraceSize = parse.GetValue(ftraceSize),
                PmsgSize = parse.GetValue(pmsgSize),
                Ecc = parse.GetValue(ecc),
            }, cancellationToken);
            CliOutput.WriteWarnings(result.Warnings);
            foreach (var record in result.Records)
            {
                CliOutput.WriteResult(record, CliOutput.JsonContext.PstoreRecord, asJson);
            }
        });
        return command;
    }

    /// <summary>A size or address as the kernel parameter takes it: decimal, 0x hex or 0-prefixed octal.</summary>
    private static Option<ulong?> SizeOption(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (PstoreLayout.TryParseKernelInteger(text, out var value))
            {
                return value;
            }
            result.AddError($"{name} takes an integer (decimal or 0x hex), not '{text}'.");
            return null;
        },
    };
}
