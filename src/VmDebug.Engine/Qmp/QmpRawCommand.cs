using System.Diagnostics;
using System.Text.Json.Nodes;
using VmDebug.Engine.Json;

namespace VmDebug
{
    /// <summary>One raw QMP command and what QEMU returned.</summary>
    public sealed class QmpResponse
    {
        public required string QmpSocket { get; init; }
        public required string Command { get; init; }

        /// <summary>QEMU's "return" member as plain values (dictionaries, arrays, numbers, strings).</summary>
        public object? Return { get; init; }

        /// <summary>The "return" member as QEMU sent it.</summary>
        public required string ReturnJson { get; init; }

        public required TimeSpan Duration { get; init; }
    }
}

namespace VmDebug.Engine.Qmp
{
    /// <summary>Runs one QMP command by name on a fresh connection (Invoke-QmpCommand, vmdebug qmp).</summary>
    public static class QmpRawCommand
    {
        public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

        public static async Task<QmpResponse> InvokeAsync(string qmpSocket, string command, JsonObject? arguments,
            TimeSpan? timeout, CancellationToken cancellationToken)
        {
            if (string.IsNullOrWhiteSpace(command))
            {
                throw new VmDebugException("QmpCommandNameEmpty", ErrorKind.InvalidArgument, "The QMP command name is empty.", command);
            }

            await using var client = await QmpClient.ConnectAsync(qmpSocket, null, cancellationToken).ConfigureAwait(false);
            var clock = Stopwatch.StartNew();
            var result = await client.ExecuteAsync(command, arguments, timeout ?? DefaultTimeout, cancellationToken).ConfigureAwait(false);
            return new QmpResponse
            {
                QmpSocket = qmpSocket,
                Command = command,
                Return = PlainJson.ToPlain(result),
                ReturnJson = result?.ToJsonString() ?? "{}",
                Duration = clock.Elapsed,
            };
        }
    }
}
