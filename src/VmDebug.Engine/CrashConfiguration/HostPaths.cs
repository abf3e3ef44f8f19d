namespace VmDebug.Engine.CrashConfiguration;

/// <summary>
/// Where the host looks for things. Defaults are the real paths; tests point a root at a directory they built.
/// </summary>
public sealed record HostPaths(string ProcRoot = "/proc", string SysConfRoot = "/etc", string RunRoot = "/run", string UsrRoot = "/usr")
{
    public static HostPaths Default { get; } = new();
    public string QemuConf => Path.Combine(SysConfRoot, "libvirt", "qemu.conf");
    public string CorePattern => Path.Combine(ProcRoot, "sys", "kernel", "core_pattern");
}
