namespace VmDebug.Commands;

internal static class GuestPanicParameterSets
{
    public const string Domain = "Domain";
    public const string Xml = "XmlPath";
}
