using System.CommandLine;
using System.Text;
using VmDebug.Engine.Files;
using VmDebug.Engine.KernelLog;

namespace VmDebug.Cli.Commands;

/// <summary>
/// vmdebug log (--input PATH | --core-file PATH | --socket PATH | --domain NAME [--connect URI]) [--pause] [--tail N]
/// [--min-level L] [--json]. Text is line for line what makedumpfile --dump-dmesg writes; --json is one KmsgRecord
/// object per line, as vmdebug kmsg --json prints them. Warnings go to stderr.
/// </summary>
public static class LogCliCommand
{
    public static Command Create()
    {
        var target = GuestKernelTargetOptions.Create();
        var tail = new Option<int?>("--tail") { Description = "Print only the last N records." };
        var minLevel = new Option<KmsgLevel?>("--min-level") { Description = "Print only records at this level or more severe (emerg … debug)." };
        var json = CliCommand.JsonOption();
        var command = new Command("log", "Print the guest kernel's log (panic included) from a dump, a QEMU process core or a live guest, "
            + "without a vmlinux; the text is what makedumpfile --dump-dmesg writes.")
        {
            tail, minLevel, json,
        };
        target.AddTo(command);
        command.SetOutputAction(json, async (parse, asJson, _, cancellationToken) =>
        {
            var log = await GuestKernelLogReader.ReadAsync(target.Get(parse), cancellationToken);
            CliOutput.WriteWarnings(log.Warnings);
            using var stdout = DescriptorOutputStream.StandardOutput();
            var count = parse.GetValue(tail);
            var level = parse.GetValue(minLevel);
            if (asJson)
            {
                foreach (var record in log.ToKmsgRecords(count, level))
                {
                    stdout.Write(Encoding.UTF8.GetBytes(KmsgCliCommand.ToJson(record).ToJsonString(CliOutput.Json) + "\n"));
                }
            }
            else
            {
                // The bytes makedumpfile writes: pure ASCII, and no console encoding between them and stdout.
                log.WriteMakedumpfileText(stdout, count, level);
            }
        });
        return command;
    }
}
