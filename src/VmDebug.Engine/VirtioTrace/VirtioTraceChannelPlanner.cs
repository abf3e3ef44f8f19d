using System.Globalization;

namespace VmDebug.Engine.VirtioTrace;

/// <summary>
/// The channels trace-agent opens (tools/virtio/virtio-trace/trace-agent.c: /dev/virtio-ports/agent-ctl-path and
/// trace-path-cpuN), optionally a trace-metadata channel for the files trace-cmd needs, and their QEMU options.
/// </summary>
public static class VirtioTraceChannelPlanner
{
    public const string ControlName = "agent-ctl-path";
    public const string MetadataName = "trace-metadata";
    public const string CpuNamePrefix = "trace-path-cpu";
    /// <summary>trace-agent's MAX_CPUS.</summary>
    public const int MaxCpus = 256;
    /// <summary>QEMU's virtio-serial default max_ports; more ports need max_ports (QEMU) or ports= (libvirt).</summary>
    public const int DefaultMaxPorts = 31;

    public static string CpuName(int cpu) => CpuNamePrefix + cpu.ToString(CultureInfo.InvariantCulture);

    /// <summary>True for the names this feature owns (so a second setup replaces rather than duplicates them).</summary>
    public static bool IsTraceChannelName(string? name) =>
        name is ControlName or MetadataName ||
        (name is not null && name.StartsWith(CpuNamePrefix, StringComparison.Ordinal) && int.TryParse(name.AsSpan(CpuNamePrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out _));

    /// <summary>
    /// Channels for <paramref name="cpuCount"/> CPUs under <paramref name="directory"/>, on the ports yielded by
    /// <paramref name="freePorts"/> (at least 1: QEMU hw/char/virtio-console.c keeps port 0 for a virtconsole).
    /// </summary>
    public static IReadOnlyList<VirtioTraceChannel> Plan(int cpuCount, string directory, bool metadata, IEnumerable<int>? freePorts = null)
    {
        if (cpuCount is < 1 or > MaxCpus)
        {
            throw new VmDebugException("VirtioTraceCpuCountInvalid", ErrorKind.InvalidArgument,
                $"The CPU count {cpuCount} is out of range: trace-agent handles 1 to {MaxCpus} CPUs, one channel each.", cpuCount);
        }

        if (!System.IO.Path.IsPathFullyQualified(directory))
        {
            throw new VmDebugException("VirtioTraceDirectoryNotAbsolute", ErrorKind.InvalidArgument,
                $"The FIFO directory '{directory}' is not an absolute path: QEMU opens the FIFOs from its own working directory.", directory);
        }

        using var ports = (freePorts ?? Enumerable.Range(1, int.MaxValue - 1)).Where(p => p >= 1).GetEnumerator();
        int NextPort() => ports.MoveNext() ? ports.Current : throw new VmDebugException("VirtioTracePortsExhausted", ErrorKind.LimitsExceeded,
            "No free virtio-serial port is left for the virtio-trace channels.", directory);
        var channels = new List<VirtioTraceChannel> { Channel(ControlName, NextPort(), directory, null) };
        for (var cpu = 0; cpu < cpuCount; cpu++)
        {
            channels.Add(Channel(CpuName(cpu), NextPort(), directory, cpu));
        }

        if (metadata)
        {
            channels.Add(Channel(MetadataName, NextPort(), directory, null));
        }

        return channels;
    }

    private static VirtioTraceChannel Channel(string name, int port, string directory, int? cpu) =>
        new() { Name = name, Port = port, Path = System.IO.Path.Combine(directory, name), Cpu = cpu };

    /// <summary>
    /// -device virtio-serial-pci … -chardev pipe,… -device virtserialport,…,nr=N,name=… for each channel. Commas in
    /// a path are doubled, as QEMU's option parser wants.
    /// </summary>
    public static IReadOnlyList<string> QemuArguments(IReadOnlyList<VirtioTraceChannel> channels, string controllerId = "vmdebug-trace-serial")
    {
        var maxPort = channels.Max(c => c.Port);
        var controller = $"virtio-serial-pci,id={controllerId}" + (maxPort >= DefaultMaxPorts ? $",max_ports={maxPort + 1}" : "");
        var arguments = new List<string> { "-device", controller };
        foreach (var channel in channels)
        {
            var id = "vmdebug-" + channel.Name;
            arguments.Add("-chardev");
            arguments.Add($"pipe,id={id},path={channel.Path.Replace(",", ",,", StringComparison.Ordinal)}");
            arguments.Add("-device");
            arguments.Add(string.Create(CultureInfo.InvariantCulture, $"virtserialport,bus={controllerId}.0,nr={channel.Port},chardev={id},name={channel.Name}"));
        }
        return arguments;
    }
}
