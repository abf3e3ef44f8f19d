namespace VmDebug.Engine.Qmp;

/// <summary>How the server broke the protocol; names the <see cref="QmpProtocolException"/>'s error id and kind.</summary>
public enum QmpProtocolFailure
{
    /// <summary>A reply of the wrong shape (neither <c>return</c> nor <c>error</c>, or an unexpected result).</summary>
    UnexpectedReply,
    /// <summary>A message that is not a JSON object, or has duplicate member names.</summary>
    MalformedMessage,
    /// <summary>A message longer than <see cref="QmpClientOptions.MaxMessageBytes"/>.</summary>
    MessageTooLarge,
    /// <summary>An error without an id: QEMU could not parse a request.</summary>
    ErrorWithoutId,
    /// <summary>The reader failed for a reason of its own.</summary>
    ReaderFailed,
}
