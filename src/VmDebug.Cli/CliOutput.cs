using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using VmDebug.Engine;
using VmDebug.Engine.Dump;

namespace VmDebug.Cli;

/// <summary>
/// Everything the CLI prints goes through here: results as text (like Format-List) or JSON on stdout,
/// progress and errors on stderr, and one exit code per error kind.
/// </summary>
public static class CliOutput
{
    /// <summary>The metadata every --json result is written with; guest-provided text is escaped by the serializer,
    /// plain ASCII stays readable.</summary>
    public static readonly CliJsonContext JsonContext = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    /// <summary>The options of <see cref="JsonContext"/>, for JSON the CLI builds itself (errors, kmsg records).</summary>
    public static JsonSerializerOptions Json => JsonContext.Options;

    /// <summary>
    /// One result: JSON on one line, or a list of its public properties (like Format-List). The properties are read
    /// from <typeparamref name="T"/>, which the trimmer keeps for that reason; results are sealed types.
    /// </summary>
    public static void WriteResult<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] T>(
        T result, JsonTypeInfo<T> type, bool json, TextWriter? writer = null)
        where T : notnull
    {
        writer ??= Console.Out;
        if (json)
        {
            writer.WriteLine(JsonSerializer.Serialize(result, type));
            return;
        }

        writer.Write(FormatList(result));
        writer.WriteLine();
    }

    /// <summary>Text already formatted, e.g. a --what-if diff.</summary>
    public static void WriteText(string text, TextWriter? writer = null) => (writer ?? Console.Out).Write(text);

    public static string FormatList<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] T>(T result)
        where T : notnull
    {
        var properties = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance);
        var width = properties.Length == 0 ? 0 : properties.Max(p => p.Name.Length);
        var text = new StringBuilder();
        foreach (var property in properties)
        {
            text.Append(property.Name.PadRight(width)).Append(" : ").AppendLine(FormatValue(property.GetValue(result)));
        }

        return text.ToString();
    }

    private static string FormatValue(object? value) => value switch
    {
        null => "",
        string s => s,
        TimeSpan t => t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s",
        DateTimeOffset d => d.ToString("yyyy-MM-dd HH:mm:ss.fff zzz", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        IDictionary d => "{" + string.Join(", ", d.Keys.Cast<object>().Select(k => $"{k}={FormatValue(d[k])}")) + "}",
        IEnumerable e => "{" + string.Join(", ", e.Cast<object?>().Select(FormatValue)) + "}",
        _ => value.ToString() ?? "",
    };

    /// <summary>
    /// Prints an error to stderr (as JSON with --json) and returns the exit code for its kind. A cancellation is
    /// "stopped" only if <paramref name="stopToken"/>, the command's own, was cancelled; otherwise it timed out.
    /// </summary>
    public static int WriteError(Exception exception, bool json, CancellationToken stopToken)
    {
        var failure = FailureClassification.Of(exception, stopToken.IsCancellationRequested);
        var remedy = failure.Remedy?.Render(CliSpelling);
        if (json)
        {
            var error = new JsonObject
            {
                ["id"] = failure.ErrorId,
                ["kind"] = failure.Kind.ToString(),
                ["message"] = failure.Message,
                ["target"] = failure.Target?.ToString(),
                ["remedy"] = remedy,
            };
            Console.Error.WriteLine(new JsonObject { ["error"] = error }.ToJsonString(Json));
        }
        else
        {
            Console.Error.WriteLine($"vmdebug: {failure.Message}{(remedy is null ? "" : " " + remedy)} [{failure.ErrorId}]");
        }

        return ExitCode(failure.Kind);
    }

    /// <summary>The engine's remedy terms as this CLI spells them.</summary>
    public static string CliSpelling(RemedyTerm term) => term switch
    {
        { Command: RemedyCommand.ConvertVmcore } => "vmdebug convert",
        { Command: RemedyCommand.EnableQemuCoreDump } => "vmdebug coredump enable",
        { Command: RemedyCommand.WatchGuestPanic } => "vmdebug watch",
        { Parameter: RemedyParameter.Domain } => "--domain",
        { Parameter: RemedyParameter.Force } => "--force",
        { Parameter: RemedyParameter.Format, Value: DumpFormat format } => $"--format {DumpFormats.QmpName(format)}",
        { Parameter: RemedyParameter.GuestMemoryLayout } => "--guest-memory-layout",
        { Parameter: RemedyParameter.IncludeGuestMemory } => "--guest-memory",
        _ => throw new ArgumentOutOfRangeException(nameof(term), term, null),
    };

    /// <summary>Stable exit codes: 1 general failure, 2 usage (System.CommandLine), then one per family of causes.</summary>
    public static int ExitCode(ErrorKind kind) => kind switch
    {
        ErrorKind.InvalidArgument => 3,
        ErrorKind.ObjectNotFound => 4,
        ErrorKind.ResourceExists => 5,
        ErrorKind.PermissionDenied => 6,
        ErrorKind.ConnectionError or ErrorKind.ProtocolError => 7,
        ErrorKind.OperationTimeout => 8,
        ErrorKind.OperationStopped => 130,
        ErrorKind.NotInstalled => 9,
        ErrorKind.ResourceBusy => 10,
        _ => 1,
    };

    /// <summary>A read's warnings (a partly readable ring or region), one line each on stderr.</summary>
    public static void WriteWarnings(IReadOnlyList<string> warnings)
    {
        // Indexed: a read without warnings then costs one interface call, not an enumerator's three.
        for (var i = 0; i < warnings.Count; i++)
        {
            Console.Error.WriteLine($"vmdebug: warning: {warnings[i]}");
        }
    }

    /// <summary>
    /// Progress on stderr, only when a person is watching it. Whether one is, is asked at the first report: a command
    /// that reports none (`vmdebug log` on a dump) never queries the terminal.
    /// </summary>
    public static IProgress<OperationProgress> CreateProgress()
    {
        IProgress<OperationProgress>? shown = null;
        return new CallbackProgress<OperationProgress>(report => LazyInitializer.EnsureInitialized(ref shown, ShownProgress).Report(report));
    }

    private static IProgress<OperationProgress> ShownProgress()
    {
        if (Console.IsErrorRedirected)
        {
            return new CallbackProgress<OperationProgress>(_ => { });
        }

        return new ThrottledProgress(report =>
        {
            var percent = report.PercentComplete >= 0 ? $"{report.PercentComplete,3}% " : "";
            var bytes = report.BytesDone >= 0 && report.BytesTotal > 0
                ? $" {Units.FormatBytes(report.BytesDone)}/{Units.FormatBytes(report.BytesTotal)}"
                : "";
            var rate = report.BytesPerSecond > 0 ? $" {Units.FormatBytes((long)report.BytesPerSecond)}/s" : "";
            Console.Error.Write($"\r\u001b[K{percent}{report.Activity}: {report.Status}{bytes}{rate}");
            if (report.Completed)
            {
                Console.Error.WriteLine();
            }
        });
    }
}
