using System.Threading.Channels;

namespace VmDebug.Engine.Fleet;

/// <summary>Where every part of a watcher reports; events queue without bound, so no source ever waits on a slow reader.</summary>
internal sealed class WatchEventSink
{
    private readonly ChannelWriter<WatchEvent> _writer;

    public WatchEventSink(ChannelWriter<WatchEvent> writer) => _writer = writer;

    public void Emit(WatchEventKind kind, WatchEventLevel level, string? guest, string? source, string message, GuestCrash? crash = null) =>
        _writer.TryWrite(new WatchEvent
        {
            Time = DateTimeOffset.UtcNow,
            Kind = kind,
            Level = level,
            Guest = guest is null ? null : KmsgText.EscapeForDisplay(guest),
            Source = source is null ? null : KmsgText.EscapeForDisplay(source),
            Message = KmsgText.EscapeForDisplay(message.ReplaceLineEndings(" ")),
            Crash = crash,
        });

    public void Info(WatchEventKind kind, string? guest, string? source, string message) => Emit(kind, WatchEventLevel.Information, guest, source, message);

    public void Warn(WatchEventKind kind, string? guest, string? source, string message) => Emit(kind, WatchEventLevel.Warning, guest, source, message);

    public void Error(WatchEventKind kind, string? guest, string? source, string message) => Emit(kind, WatchEventLevel.Error, guest, source, message);
}
