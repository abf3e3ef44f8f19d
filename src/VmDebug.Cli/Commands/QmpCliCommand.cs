using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using VmDebug.Engine;
using VmDebug.Engine.Qmp;

namespace VmDebug.Cli.Commands;

/// <summary>vmdebug qmp --socket PATH --execute CMD [--arguments JSON]: prints QEMU's JSON response.</summary>
public static class QmpCliCommand
{
    public static Command Create()
    {
        var socket = new Option<string>("--socket") { Description = "Path of the guest's QMP Unix socket.", Required = true };
        var execute = new Option<string>("--execute") { Description = "QMP command to run, e.g. query-status.", Required = true };
        var arguments = new Option<string?>("--arguments") { Description = "The command's arguments as a JSON object." };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the reply.", DefaultValueFactory = _ => 30 };
        var command = new Command("qmp", "Run one QMP command and print QEMU's JSON response.") { socket, execute, arguments, timeout };
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                var response = await QmpRawCommand.InvokeAsync(parse.GetValue(socket)!, parse.GetValue(execute)!,
                    ParseArguments(parse.GetValue(arguments)), TimeSpan.FromSeconds(parse.GetValue(timeout)), cancellationToken);
                Console.WriteLine(new JsonObject { ["return"] = JsonNode.Parse(response.ReturnJson) }.ToJsonString());
                return 0;
            }
            catch (Exception e)
            {
                return CliOutput.WriteError(e, json: true, cancellationToken);
            }
        });
        return command;
    }

    private static JsonObject? ParseArguments(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw new JsonException("not a JSON object");
        }
        catch (JsonException e)
        {
            throw new VmDebugException("QmpArgumentsInvalid", ErrorKind.InvalidArgument,
                $"--arguments must be a JSON object: {e.Message}", text, e);
        }
    }
}
