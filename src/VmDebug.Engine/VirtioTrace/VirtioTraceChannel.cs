namespace VmDebug;

/// <summary>
/// One virtio-serial port of virtio-trace: the guest opens /dev/virtio-ports/<see cref="Name"/>, QEMU's pipe chardev
/// opens <see cref="Path"/>.in (host to guest) and <see cref="Path"/>.out (guest to host).
/// </summary>
public sealed class VirtioTraceChannel
{
    public required string Name { get; init; }
    /// <summary>virtio-serial port number (nr=), 1 or more: port 0 is kept for a virtconsole.</summary>
    public required int Port { get; init; }
    /// <summary>The chardev path without its .in/.out suffix.</summary>
    public required string Path { get; init; }
    /// <summary>The trace CPU for trace-path-cpuN; null for the control and metadata channels.</summary>
    public int? Cpu { get; init; }
    public string HostInput => Path + ".in";
    public string HostOutput => Path + ".out";
}
