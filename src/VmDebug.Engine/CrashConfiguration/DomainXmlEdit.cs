using System.Text;

namespace VmDebug.Engine.CrashConfiguration;

/// <summary>
/// A planned edit of one domain definition, either an offline XML file (replaced atomically, with a backup) or a
/// libvirt domain's persistent XML (defined back through the libvirt layer). Edit <see cref="Document"/>, name each
/// edit with <see cref="Record"/>, then read <see cref="Diff"/> and <see cref="Apply"/>.
/// </summary>
internal sealed class DomainXmlEdit
{
    private readonly List<string> _changes = [];
    private string? _updated;

    private DomainXmlEdit(string originalXml, string? xmlPath, bool domainIsRunning)
    {
        OriginalXml = originalXml;
        XmlPath = xmlPath;
        DomainIsRunning = domainIsRunning;
        Document = DomainXmlDocument.Parse(originalXml, xmlPath);
    }

    /// <summary>Exactly one of <paramref name="domainXml"/> (fetched from libvirt) and <paramref name="xmlPath"/>.</summary>
    public static DomainXmlEdit Load(string? domainXml, string? xmlPath, bool domainIsRunning)
    {
        DomainSource.Check(domainXml, xmlPath, required: true);
        if (xmlPath is null)
        {
            return new DomainXmlEdit(domainXml!, null, domainIsRunning);
        }

        if (!File.Exists(xmlPath))
        {
            throw new VmDebugException("DomainXmlNotFound", ErrorKind.ObjectNotFound, $"The domain XML file {xmlPath} does not exist.", xmlPath);
        }

        return new DomainXmlEdit(File.ReadAllText(xmlPath), xmlPath, domainIsRunning: false);
    }

    public DomainXmlDocument Document { get; }
    public string OriginalXml { get; }
    /// <summary>The file edited offline; null for a libvirt domain.</summary>
    public string? XmlPath { get; }
    public bool DomainIsRunning { get; }
    public IReadOnlyList<string> Changes => _changes;

    /// <summary>The XML to define or write: the original text, byte for byte, when nothing was edited.</summary>
    public string UpdatedXml => _changes.Count == 0 ? OriginalXml : _updated ??= Document.ToString();
    public bool Changed => UpdatedXml != OriginalXml;
    /// <summary>A running domain gets a changed persistent definition at its next boot.</summary>
    public bool TakesEffectAtNextBoot => DomainIsRunning && XmlPath is null && Changed;
    public string Diff
    {
        get
        {
            var label = XmlPath ?? $"domain {Document.Root.Element("name")?.Value}";
            return UnifiedDiff.Create(OriginalXml, UpdatedXml, label, label);
        }
    }

    /// <summary>Notes one edit of <see cref="Document"/> when <paramref name="changed"/>.</summary>
    public void Record(bool changed, string change)
    {
        if (!changed)
        {
            return;
        }

        _changes.Add(change);
        _updated = null;
    }

    /// <summary>Sets or removes &lt;memory dumpCore&gt;.</summary>
    public void SetDumpCore(DumpCoreEdit edit) =>
        Record(GuestPanicEditor.SetDumpCore(Document, edit),
            edit == DumpCoreEdit.Remove ? "Remove memory dumpCore (qemu.conf dump_guest_core applies)" : $"memory dumpCore = {edit.ToString().ToLowerInvariant()}");

    /// <summary>Writes the file, or hands the XML to <paramref name="defineDomainXml"/> (the libvirt layer's define).</summary>
    public void Apply(Action<string>? defineDomainXml, CancellationToken cancellationToken)
    {
        if (!Changed)
        {
            return;
        }

        if (XmlPath is { } path)
        {
            AtomicFileReplacer.Replace(path, Encoding.UTF8.GetBytes(UpdatedXml), Encoding.UTF8.GetBytes(OriginalXml), DateTime.Now, cancellationToken);
        }
        else if (defineDomainXml is null)
        {
            throw new ArgumentNullException(nameof(defineDomainXml), "A libvirt domain needs the define callback to apply the new XML.");
        }
        else
        {
            defineDomainXml(UpdatedXml);
        }
    }
}
