namespace VmDebug.Commands;

internal static class CoreDumpParameterSets
{
    public const string Host = "Host";
    public const string Domain = "Domain";
    public const string Xml = "XmlPath";
}
