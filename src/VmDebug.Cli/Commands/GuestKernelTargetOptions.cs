using System.CommandLine;
using VmDebug.Engine.GuestKernel;

namespace VmDebug.Cli.Commands;

/// <summary>The source options vmdebug log and vmdebug crash-info share: exactly one of four, plus --connect and --pause.</summary>
public sealed class GuestKernelTargetOptions
{
    private readonly Option<string?> _input = new("--input", "-i") { Description = "A vmcore: ELF, kdump (any codec) or flattened." };
    private readonly Option<string?> _coreFile = new("--core-file") { Description = "A QEMU process core written with dump-guest-core=on." };
    private readonly Option<string?> _socket = new("--socket") { Description = "A running guest's QMP Unix socket (read live, not paused)." };
    private readonly Option<string?> _domain = new("--domain") { Description = "A libvirt domain name (read live, not paused)." };
    private readonly Option<string> _connect = new("--connect") { Description = "libvirt connection URI.", DefaultValueFactory = _ => Engine.Libvirt.LibvirtConnection.DefaultUri };
    private readonly Option<bool> _pause = new("--pause") { Description = "Pause a live guest while reading it (resumed afterwards)." };

    public static GuestKernelTargetOptions Create() => new();

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _input, _coreFile, _socket, _domain, _connect, _pause })
        {
            command.Options.Add(option);
        }
        command.Validators.Add(result =>
        {
            var given = new[] { result.GetValue(_input), result.GetValue(_coreFile), result.GetValue(_socket), result.GetValue(_domain) }
                .Count(v => v is not null);
            if (given != 1)
            {
                result.AddError("Give exactly one of --input, --core-file, --socket and --domain.");
            }
            if (result.GetValue(_pause) && result.GetValue(_socket) is null && result.GetValue(_domain) is null)
            {
                result.AddError("--pause applies only to --socket and --domain.");
            }
        });
        // A dump or a process core is only read: an interrupted run leaves nothing behind, so signals may end it at once.
        CliSignals.OnlyReadsWhen(command, parse => parse.GetValue(_input) is not null || parse.GetValue(_coreFile) is not null);
    }

    public GuestKernelTarget Get(ParseResult parse) => new()
    {
        Path = parse.GetValue(_input),
        CoreFile = parse.GetValue(_coreFile),
        QmpSocket = parse.GetValue(_socket),
        Domain = parse.GetValue(_domain),
        ConnectionUri = parse.GetValue(_connect)!,
        Pause = parse.GetValue(_pause),
    };
}
