using VmDebug.Engine.Libvirt;

namespace VmDebug.Tests.Support;

/// <summary>A defined and started test domain, destroyed and undefined on dispose.</summary>
internal sealed class RunningGuest : IDisposable
{
    private RunningGuest(LibvirtDomain domain) => Domain = domain;

    public LibvirtDomain Domain { get; }

    public static RunningGuest Start(LibvirtConnection connection, string purpose, int memoryMiB)
    {
        var domain = connection.DefineDomain(TestDomains.Minimal(TestDomains.UniqueName(purpose), Guid.NewGuid(), memoryMiB));
        try
        {
            domain.Create();
        }
        catch
        {
            domain.Undefine();
            domain.Dispose();
            throw;
        }
        return new RunningGuest(domain);
    }

    public void Dispose()
    {
        try
        {
            if (Domain.IsActive)
            {
                Domain.Destroy();
            }

            Domain.Undefine();
        }
        finally
        {
            Domain.Dispose();
        }
    }
}
