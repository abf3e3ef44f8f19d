using System.Management.Automation;
using System.Runtime.CompilerServices;

namespace VmDebug.Commands;

// The default set has no mandatory parameter, so a bare call says which sources exist instead of prompting for a vsock Port.
[Cmdlet(VerbsCommon.Get, "VsockKmsgStream", DefaultParameterSetName = NoSourceSet)]
[OutputType(typeof(KmsgRecord))]
public sealed class GetVsockKmsgStreamCommand : VmDebugCmdlet
{
    private const string NoSourceSet = "NoSource";
    private const string VsockSet = "Vsock";
    private const string HybridSet = "HybridVsock";
    private const string ChardevSet = "Chardev";
    private const string DomainSet = "Domain";

    [Parameter(Mandatory = true, ParameterSetName = VsockSet)]
    [Parameter(Mandatory = true, ParameterSetName = HybridSet)]
    [Parameter(ParameterSetName = DomainSet)]
    public uint Port { get; set; }

    [Parameter(ParameterSetName = VsockSet)]
    [ValidateNotNullOrEmpty]
    public uint[]? Cid { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = HybridSet)]
    [ValidateNotNullOrEmpty]
    public string HybridVsockPath { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = ChardevSet)]
    [ValidateNotNullOrEmpty]
    public string ChardevSocket { get; set; } = "";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = DomainSet, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(LibvirtDomainCompleter))]
    public string Domain { get; set; } = "";

    [Parameter(ParameterSetName = DomainSet)]
    [ValidateNotNullOrEmpty]
    public string ConnectionUri { get; set; } = Engine.Libvirt.LibvirtConnection.DefaultUri;

    /// <summary>Records to read before stopping; 0: no limit.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int Count { get; set; }

    /// <summary>Seconds to read before stopping; 0: until Ctrl+C (or a chardev socket closes).</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int Timeout { get; set; }

    [Parameter]
    public KmsgLevel MinimumLevel { get; set; } = KmsgLevel.Debug;

    protected override void ProcessRecord()
    {
        var options = new KmsgStreamOptions
        {
            Count = Count > 0 ? Count : null,
            Timeout = Timeout > 0 ? TimeSpan.FromSeconds(Timeout) : null,
            MinimumLevel = MinimumLevel,
        };
        // Paths and bound parameters are read here, on the pipeline thread; only the libvirt lookup runs in the engine call.
        uint? domainPort = MyInvocation.BoundParameters.ContainsKey(nameof(Port)) ? Port : null;
        var source = ParameterSetName switch
        {
            DomainSet or NoSourceSet => null,
            ChardevSet => KmsgSource.ChardevSocket(GetUnresolvedProviderPathFromPSPath(ChardevSocket)),
            HybridSet => KmsgSource.HybridVsock(GetUnresolvedProviderPathFromPSPath(HybridVsockPath), Port),
            _ => KmsgSource.Vsock(Port, Cid),
        };
        object? target = ParameterSetName switch
        {
            DomainSet => Domain,
            NoSourceSet => null,
            ChardevSet => ChardevSocket,
            HybridSet => HybridVsockPath,
            _ => Port,
        };
        RunEngineStream(ct => ReadAsync(source, domainPort, options, ct), Emit, target);
    }

    private async IAsyncEnumerable<KmsgItem> ReadAsync(KmsgSource? source, uint? domainPort, KmsgStreamOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (source is null && ParameterSetName == NoSourceSet)
        {
            throw KmsgSource.MissingSourceError();
        }

        source ??= await KmsgSource.ForDomainAsync(Domain, ConnectionUri, domainPort, cancellationToken).ConfigureAwait(false);
        OnPipelineThread(() => WriteVerbose($"Reading guest kernel logs from {source.Description}."));
        await foreach (var item in KmsgStream.ReadAsync(source, options, cancellationToken).ConfigureAwait(false))
        {
            yield return item;
        }
    }

    /// <summary>Records are the output; connections are verbose; refusals, gaps, resets and malformed input are warnings.</summary>
    private void Emit(KmsgItem item)
    {
        switch (item)
        {
            case KmsgRecord record:
                WriteObject(record);
                break;
            case KmsgStreamEvent { Kind: KmsgEventKind.Connected or KmsgEventKind.Disconnected } connection:
                WriteVerbose(connection.Message);
                break;
            case KmsgStreamEvent streamEvent:
                WriteWarning(streamEvent.Message);
                break;
        }
    }
}
