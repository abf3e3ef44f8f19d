using System.Globalization;
using System.Xml.Linq;
using VmDebug.Engine.Libvirt;
using VmDebug.Engine.ProcessCore;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.GuestKernel;

/// <summary>
/// A libvirt domain's physical memory through virDomainMemoryPeek(VIR_MEMORY_PHYSICAL): no dump, no monitor
/// passthrough (which would taint the domain), and the guest is not paused. Reads stay inside the RAM ranges of the
/// domain's machine type and memory size.
/// </summary>
internal sealed class LibvirtPhysicalMemory : IGuestPhysicalMemory, IDisposable
{
    private const int LargeChunk = 1 << 20;
    private const int SmallChunk = 65536; // libvirt before 0.9.x: REMOTE_DOMAIN_MEMORY_PEEK_BUFFER_MAX

    private readonly LibvirtConnection _connection;
    private readonly LibvirtDomain _domain;
    private readonly PhysicalRange[] _ranges;
    private readonly bool _resume;
    private int _chunk = LargeChunk;

    private LibvirtPhysicalMemory(LibvirtConnection connection, LibvirtDomain domain, PhysicalRange[] ranges, bool resume)
    {
        _connection = connection;
        _domain = domain;
        _ranges = ranges;
        _resume = resume;
    }

    public string Name => _domain.Name;

    public IReadOnlyList<PhysicalRange> Ranges => _ranges;

    /// <summary>Each read is a round trip to the guest's QEMU: few large reads beat many small ones.</summary>
    public int ReadBatchBytes => 1 << 20;

    public static Task<GuestKernelSession> OpenSessionAsync(string domainName, string uri, bool pause, CancellationToken cancellationToken) =>
        Task.Run(() =>
        {
            var connection = LibvirtConnection.Open(uri);
            LibvirtPhysicalMemory? memory = null;
            try
            {
                var domain = connection.LookupDomain(domainName);
                if (!domain.IsActive)
                {
                    throw new GuestKernelException(GuestKernelException.LiveReadFailed, ErrorKind.InvalidOperation, domainName,
                        "the domain is not running, so it has no memory to read.");
                }
                var ranges = RamRanges(domain);
                var resume = false;
                if (pause && domain.GetState().State == LibvirtDomainState.Running)
                {
                    domain.Suspend();
                    resume = true;
                }
                memory = new LibvirtPhysicalMemory(connection, domain, ranges, resume);
                return GuestKernelSession.Create(memory, null, [], memory, cancellationToken);
            }
            catch
            {
                if (memory is not null)
                {
                    memory.Dispose();
                }
                else
                {
                    connection.Dispose();
                }
                throw;
            }
        }, cancellationToken);

    public bool TryRead(ulong address, Span<byte> buffer)
    {
        if (!Inside(address, (ulong)buffer.Length))
        {
            return false;
        }
        for (var done = 0; done < buffer.Length;)
        {
            var n = Math.Min(_chunk, buffer.Length - done);
            try
            {
                _domain.PeekPhysical(address + (ulong)done, buffer.Slice(done, n));
            }
            catch (LibvirtException) when (_chunk == LargeChunk && n > SmallChunk)
            {
                _chunk = SmallChunk; // an older daemon's smaller cap: retry in small pieces from here on
                continue;
            }
            catch (LibvirtException e)
            {
                throw new GuestKernelException(GuestKernelException.LiveReadFailed, ErrorKind.ReadError, Name, e.Message, e);
            }
            done += n;
        }
        return true;
    }

    private bool Inside(ulong address, ulong length)
    {
        foreach (var range in _ranges)
        {
            if (address >= range.Start && address < range.End)
            {
                return length <= range.End - address;
            }
        }
        return false;
    }

    /// <summary>The domain's RAM layout from its live XML: machine type and memory size, then QEMU's layout rules.</summary>
    private static PhysicalRange[] RamRanges(LibvirtDomain domain)
    {
        var xml = XDocument.Parse(domain.GetXmlDesc());
        var machine = xml.Root?.Element("os")?.Element("type")?.Attribute("machine")?.Value ?? "pc";
        var memory = xml.Root?.Element("memory");
        var amount = ulong.Parse(memory?.Value ?? "0", CultureInfo.InvariantCulture);
        var unit = memory?.Attribute("unit")?.Value ?? "KiB";
        var bytes = unit switch
        {
            "b" or "bytes" => amount,
            "KiB" or "k" => amount << 10,
            "MiB" or "M" => amount << 20,
            "GiB" or "G" => amount << 30,
            _ => throw new GuestKernelException(GuestKernelException.LiveReadFailed, ErrorKind.InvalidData, domain.Name,
                $"the domain's memory unit '{unit}' is not one VmDebug reads."),
        };
        var family = QemuCommandLine.FamilyOf(machine);
        if (family == QemuMachineFamily.Unknown)
        {
            throw new GuestKernelException(GuestKernelException.LiveReadFailed, ErrorKind.NotImplemented, domain.Name,
                $"the machine type '{machine}' has no known RAM layout (only pc/i440fx and q35 machines are read live).");
        }
        return LiveRamRanges.From(GuestMemoryLayout.ForMachine(family, bytes, null, gigabyteAlign: true, machine));
    }

    public void Dispose()
    {
        try
        {
            if (_resume)
            {
                _domain.Resume();
            }
        }
        finally
        {
            _domain.Dispose();
            _connection.Dispose();
        }
    }
}
