using System.Text.Json.Nodes;

namespace VmDebug.Engine.Qmp;

/// <summary>The server's greeting: <c>{"QMP":{"version":…,"capabilities":[…]}}</c>.</summary>
public sealed record QmpGreeting(QmpVersion Version, IReadOnlyList<string> Capabilities)
{
    /// <summary>The greeting in <paramref name="message"/>, or null with the first member that is missing or mistyped.</summary>
    internal static QmpGreeting? TryParse(JsonObject message, out string failingMember)
    {
        failingMember = "QMP";
        if (message["QMP"] is not JsonObject qmp)
        {
            return null;
        }

        failingMember = "QMP.version";
        if (qmp["version"] is not JsonObject version)
        {
            return null;
        }

        failingMember = "QMP.version.qemu";
        if (version["qemu"] is not JsonObject qemu)
        {
            return null;
        }

        failingMember = "QMP.capabilities";
        if (qmp["capabilities"] is not JsonArray capabilities)
        {
            return null;
        }

        failingMember = "QMP.version.qemu.major";
        if (!QmpMessage.TryGetInt(qemu, "major", out var major))
        {
            return null;
        }

        failingMember = "QMP.version.qemu.minor";
        if (!QmpMessage.TryGetInt(qemu, "minor", out var minor))
        {
            return null;
        }

        failingMember = "QMP.version.qemu.micro";
        if (!QmpMessage.TryGetInt(qemu, "micro", out var micro))
        {
            return null;
        }

        failingMember = "QMP.capabilities";
        var names = new List<string>(capabilities.Count);
        foreach (var capability in capabilities)
        {
            if (capability is not JsonValue value || !value.TryGetValue(out string? name))
            {
                return null;
            }

            names.Add(name);
        }

        failingMember = "";
        var package = QmpMessage.GetString(version, "package") ?? "";
        return new QmpGreeting(new QmpVersion(major, minor, micro, package), names);
    }
}
