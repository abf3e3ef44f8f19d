namespace VmDebug.Engine.Qmp;

/// <summary>Why no QMP greeting was read; names the <see cref="QmpGreetingException"/>'s error id and kind.</summary>
public enum QmpGreetingFailure
{
    /// <summary>The peer closed, sent something that is not JSON, or JSON that is not a greeting.</summary>
    Invalid,
    /// <summary>The peer sent no complete greeting within the handshake timeout.</summary>
    Timeout,
}
