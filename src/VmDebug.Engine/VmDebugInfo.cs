using System.Reflection;

namespace VmDebug.Engine;

public static class VmDebugInfo
{
    public static string Version { get; } =
        typeof(VmDebugInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0]
        ?? "0.0.0";
}
