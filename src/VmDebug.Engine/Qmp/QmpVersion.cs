namespace VmDebug.Engine.Qmp;

/// <summary>A QEMU version as QMP reports it (greeting and <c>query-version</c>).</summary>
public sealed record QmpVersion(int Major, int Minor, int Micro, string Package)
{
    public override string ToString() => Package.Length == 0 ? $"{Major}.{Minor}.{Micro}" : $"{Major}.{Minor}.{Micro} ({Package.Trim()})";
}
