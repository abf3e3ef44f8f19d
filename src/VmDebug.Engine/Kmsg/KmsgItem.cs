namespace VmDebug;

/// <summary>One item of a kmsg stream: a <see cref="KmsgRecord"/> or a <see cref="KmsgStreamEvent"/>.</summary>
public abstract class KmsgItem
{
    private protected KmsgItem(string guest, long connection, DateTimeOffset received)
    {
        Guest = guest;
        Connection = connection;
        Received = received;
    }

    /// <summary>
    /// Who sent it: the vsock CID in decimal, the socket path for hybrid vsock and chardev sockets, or the libvirt
    /// domain's name when the source was resolved from a domain.
    /// </summary>
    public string Guest { get; }

    /// <summary>Number of the connection within this stream (1, 2, ...), distinguishing reconnects of one guest.</summary>
    public long Connection { get; }

    /// <summary>When the host received it.</summary>
    public DateTimeOffset Received { get; }
}
