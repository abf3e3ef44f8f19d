using System.Text.Json.Nodes;
using VmDebug.Engine.ProcessCore;
using VmDebug.Engine.Qmp;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.GuestKernel;

/// <summary>
/// A live guest's physical memory read through QMP <c>pmemsave</c> into an anonymous pipe of this process, which QEMU
/// opens as <c>/proc/PID/fd/N</c> (pmemsave fopen()s a path, so QMP's fd passing cannot serve): only the pages asked
/// for travel, nothing is created in any file system, so a killed VmDebug leaves nothing behind, and the guest keeps
/// running (pmemsave does not stop vCPUs). Reads are confined to the guest's RAM ranges (from the machine type and RAM size,
/// QEMU's own layout rules), so no device memory is ever touched.
/// </summary>
internal sealed class QmpPhysicalMemory : IGuestPhysicalMemory, IDisposable
{
    private const int MaxChunk = 4 << 20;
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);

    private readonly QmpClient _client;
    private readonly string _pipePath;
    private readonly FileStream _keepOpen; // the write end stays ours, so EOF never comes early
    private readonly FileStream _reader;
    private readonly PhysicalRange[] _ranges;
    private readonly bool _resume;
    private readonly bool _ownsClient;
    private bool _broken;

    private QmpPhysicalMemory(QmpClient client, string socket, PhysicalRange[] ranges, bool resume, bool ownsClient = true)
    {
        _client = client;
        Name = socket;
        _ranges = ranges;
        _resume = resume;
        _ownsClient = ownsClient;
        if (Files.UnixFile.CreatePipe(out var read, out var write) is var errno and not 0)
        {
            throw new GuestKernelException(GuestKernelException.LiveReadFailed, ErrorKind.ResourceUnavailable, socket,
                $"cannot create the pipe for pmemsave: {Files.UnixFile.ErrorText(errno)}.");
        }
        _reader = new FileStream(read, FileAccess.Read, bufferSize: 0);
        _keepOpen = new FileStream(write, FileAccess.Write, bufferSize: 0);
        _pipePath = Files.UnixFile.PathForOtherProcess(write);
    }

    public string Name { get; }

    /// <summary>
    /// Reads within <paramref name="ranges"/> (RAM as a dump of this guest lists it) through a client its caller keeps
    /// using and closes.
    /// </summary>
    internal static QmpPhysicalMemory Borrow(QmpClient client, IReadOnlyList<PhysicalRange> ranges) =>
        new(client, client.SocketPath, [.. ranges], resume: false, ownsClient: false);

    public IReadOnlyList<PhysicalRange> Ranges => _ranges;

    /// <summary>Each read is a round trip to the guest's QEMU: few large reads beat many small ones.</summary>
    public int ReadBatchBytes => 1 << 20;

    /// <summary>Connects, works out the RAM layout, optionally pauses, and opens a session over the live guest.</summary>
    public static async Task<GuestKernelSession> OpenSessionAsync(string socket, bool pause, CancellationToken cancellationToken)
    {
        var client = await QmpClient.ConnectAsync(socket, cancellationToken: cancellationToken).ConfigureAwait(false);
        QmpPhysicalMemory? memory = null;
        try
        {
            var ranges = await RamRangesAsync(client, cancellationToken).ConfigureAwait(false);
            var resume = false;
            if (pause && (await client.QueryStatusAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Running)
            {
                await client.StopAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                resume = true;
            }
            memory = new QmpPhysicalMemory(client, socket, ranges, resume);
            var session = await Task.Run(() => GuestKernelSession.Create(memory, null, [], memory, cancellationToken), cancellationToken)
                .ConfigureAwait(false);
            return session;
        }
        catch
        {
            if (memory is not null)
            {
                memory.Dispose();
            }
            else
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }
            throw;
        }
    }

    public bool TryRead(ulong address, Span<byte> buffer)
    {
        if (_broken || !Inside(address, (ulong)buffer.Length))
        {
            return false;
        }
        for (var done = 0; done < buffer.Length;)
        {
            var n = Math.Min(MaxChunk, buffer.Length - done);
            ReadChunk(address + (ulong)done, buffer.Slice(done, n));
            done += n;
        }
        return true;
    }

    private void ReadChunk(ulong address, Span<byte> buffer)
    {
        var chunk = new byte[buffer.Length];
        var reader = Task.Run(() => _reader.ReadExactly(chunk));
        try
        {
            _client.ExecuteAsync("pmemsave", new JsonObject { ["val"] = address, ["size"] = buffer.Length, ["filename"] = _pipePath }, CallTimeout)
                .GetAwaiter().GetResult();
            if (!reader.Wait(CallTimeout))
            {
                throw new TimeoutException("the pipe was not filled");
            }
        }
        catch (Exception e) when (e is QmpException or TimeoutException or AggregateException)
        {
            // Fill the pipe ourselves so the reader thread ends; the stream is out of step now, so stop using it.
            _broken = true;
            _keepOpen.Write(new byte[buffer.Length]);
            reader.Wait(CallTimeout);
            throw new GuestKernelException(GuestKernelException.LiveReadFailed, ErrorKind.ReadError, Name,
                $"pmemsave of {buffer.Length} bytes at physical 0x{address:x} failed: {e.Message}", e);
        }
        chunk.CopyTo(buffer);
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

    /// <summary>RAM below and above 4 GiB as QEMU lays it out for the machine type (the rules GuestMemoryLayout encodes for process cores).</summary>
    private static async Task<PhysicalRange[]> RamRangesAsync(QmpClient client, CancellationToken cancellationToken)
    {
        var summary = await client.ExecuteAsync("query-memory-size-summary", null, CallTimeout, cancellationToken).ConfigureAwait(false);
        var ramBytes = summary?["base-memory"]?.GetValue<ulong>()
            ?? throw new GuestKernelException(GuestKernelException.LiveReadFailed, ErrorKind.ProtocolError, client.SocketPath,
                "query-memory-size-summary returned no base-memory.");
        var type = (await client.ExecuteAsync("qom-get", new JsonObject { ["path"] = "/machine", ["property"] = "type" }, CallTimeout, cancellationToken)
            .ConfigureAwait(false))?.GetValue<string>() ?? "";
        var machine = type.EndsWith("-machine", StringComparison.Ordinal) ? type[..^"-machine".Length] : type;
        var family = QemuCommandLine.FamilyOf(machine);
        if (family == QemuMachineFamily.Unknown)
        {
            throw new GuestKernelException(GuestKernelException.LiveReadFailed, ErrorKind.NotImplemented, client.SocketPath,
                $"the machine type '{machine}' has no known RAM layout (only pc/i440fx and q35 machines are read live).");
        }
        ulong? below4G = null;
        try
        {
            var value = await client.ExecuteAsync("qom-get", new JsonObject { ["path"] = "/machine", ["property"] = "max-ram-below-4g" }, CallTimeout, cancellationToken)
                .ConfigureAwait(false);
            below4G = value?.GetValue<ulong>() is > 0 and var v ? v : null;
        }
        catch (QmpCommandException)
        {
            // An older machine without the property: QEMU's defaults apply.
        }
        return LiveRamRanges.From(GuestMemoryLayout.ForMachine(family, ramBytes, below4G, gigabyteAlign: true, machine));
    }

    public void Dispose()
    {
        try
        {
            if (_resume && _client.IsConnected)
            {
                _client.ContAsync().GetAwaiter().GetResult();
            }
        }
        finally
        {
            _reader.Dispose();
            _keepOpen.Dispose();
            if (_ownsClient)
            {
                _client.Dispose();
            }
        }
    }
}
