using System.Text.Json.Nodes;

namespace VmDebug.Engine.Qmp;

/// <summary>The <c>error</c> member of a reply: QMP's error class and QEMU's description.</summary>
internal sealed record QmpError(string Class, string Description)
{
    /// <summary>Missing members are named in the text, so a malformed error still says what it lacked.</summary>
    public static QmpError Parse(JsonObject error) =>
        new(QmpMessage.GetString(error, "class") ?? "(no class)", QmpMessage.GetString(error, "desc") ?? "(no description)");

    public override string ToString() => $"{Class}: {Description}";
}
