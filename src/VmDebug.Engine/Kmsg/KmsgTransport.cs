namespace VmDebug.Engine.Kmsg;

/// <summary>An open transport: hands its connections to a pipeline until disposed. Disposing closes its sockets.</summary>
internal abstract class KmsgTransport : IAsyncDisposable
{
    public abstract void Start(KmsgPipeline pipeline);

    public abstract ValueTask DisposeAsync();
}
