using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace VmDebug.Engine.CrashConfiguration;

/// <summary>
/// A libvirt domain XML edited in place: comments, unknown elements and attributes, attribute order and
/// whitespace survive, and serialisation keeps libvirt's style (quote character, <c>&lt;x/&gt;</c>) so unedited
/// lines come back byte for byte.
/// </summary>
public sealed class DomainXmlDocument
{
    private readonly XDocument _doc;
    private readonly char _quote;
    private readonly string _emptyClose;

    private DomainXmlDocument(XDocument doc, char quote, string emptyClose)
    {
        _doc = doc;
        _quote = quote;
        _emptyClose = emptyClose;
    }

    public XElement Root => _doc.Root!;

    public static DomainXmlDocument Parse(string xml, string? source = null)
    {
        XDocument doc;
        try
        {
            // DTDs are refused: domain XML never has one, and it would allow entity expansion.
            using var reader = XmlReader.Create(new StringReader(xml), new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            doc = XDocument.Load(reader, LoadOptions.PreserveWhitespace | LoadOptions.SetLineInfo);
        }
        catch (XmlException ex)
        {
            throw new VmDebugException("DomainXmlInvalid", ErrorKind.ParserError,
                $"{source ?? "The domain XML"} is not well-formed XML (line {ex.LineNumber}): {ex.Message}", source, ex);
        }
        if (doc.Root?.Name != "domain")
        {
            throw new VmDebugException("DomainXmlInvalid", ErrorKind.InvalidData,
                $"{source ?? "The XML"} is not a libvirt domain: its root element is <{doc.Root?.Name.LocalName}>, not <domain>.", source);
        }

        int single = Count(xml, "='"), dbl = Count(xml, "=\"");
        int spaced = Count(xml, " />"), tight = Count(xml, "/>") - spaced;
        return new DomainXmlDocument(doc, single >= dbl ? '\'' : '"', spaced > tight ? " />" : "/>");
    }

    private static int Count(string s, string what)
    {
        var n = 0;
        for (var i = s.IndexOf(what, StringComparison.Ordinal); i >= 0; i = s.IndexOf(what, i + what.Length, StringComparison.Ordinal))
        {
            n++;
        }

        return n;
    }

    public override string ToString()
    {
        var sb = new StringBuilder();
        if (_doc.Declaration is { } decl)
        {
            sb.Append(decl).Append('\n');
        }
        // With PreserveWhitespace the document keeps the whitespace around the root as nodes of its own.
        foreach (var node in _doc.Nodes())
        {
            Write(sb, node);
        }

        return sb.ToString();
    }

    private void Write(StringBuilder sb, XNode node)
    {
        switch (node)
        {
            case XElement e:
                sb.Append('<').Append(QualifiedName(e, e.Name));
                foreach (var a in e.Attributes())
                {
                    sb.Append(' ').Append(AttributeName(e, a)).Append('=').Append(_quote);
                    Escape(sb, a.Value, attribute: true);
                    sb.Append(_quote);
                }
                if (e.IsEmpty) { sb.Append(_emptyClose); break; }
                sb.Append('>');
                foreach (var child in e.Nodes())
                {
                    Write(sb, child);
                }

                sb.Append("</").Append(QualifiedName(e, e.Name)).Append('>');
                break;
            case XCData c:
                sb.Append("<![CDATA[").Append(c.Value).Append("]]>");
                break;
            case XText t:
                Escape(sb, t.Value, attribute: false);
                break;
            case XComment c:
                sb.Append("<!--").Append(c.Value).Append("-->");
                break;
            case XProcessingInstruction pi:
                sb.Append("<?").Append(pi.Target).Append(pi.Data.Length > 0 ? " " + pi.Data : "").Append("?>");
                break;
            default:
                sb.Append(node.ToString(SaveOptions.DisableFormatting));
                break;
        }
    }

    private static string QualifiedName(XElement scope, XName name)
    {
        if (name.Namespace == XNamespace.None)
        {
            return name.LocalName;
        }

        var prefix = scope.GetPrefixOfNamespace(name.Namespace);
        return string.IsNullOrEmpty(prefix) ? name.LocalName : prefix + ":" + name.LocalName;
    }

    private static string AttributeName(XElement scope, XAttribute a)
    {
        if (a.Name.Namespace == XNamespace.Xmlns)
        {
            return "xmlns:" + a.Name.LocalName;
        }

        if (a.Name.Namespace == XNamespace.None)
        {
            return a.Name.LocalName;
        }

        if (a.Name.Namespace == XNamespace.Xml)
        {
            return "xml:" + a.Name.LocalName;
        }

        return QualifiedName(scope, a.Name);
    }

    private void Escape(StringBuilder sb, string value, bool attribute)
    {
        foreach (var ch in value)
        {
            switch (ch)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '\'' when attribute && _quote == '\'': sb.Append("&apos;"); break;
                case '"' when attribute && _quote == '"': sb.Append("&quot;"); break;
                case '\n' or '\r' or '\t' when attribute: sb.Append("&#").Append(((int)ch).ToString(CultureInfo.InvariantCulture)).Append(';'); break;
                default: sb.Append(ch); break;
            }
        }
    }

    /// <summary>
    /// Inserts <paramref name="element"/> into <paramref name="parent"/>, after <paramref name="after"/> or before
    /// <paramref name="before"/> (else last), indented like its siblings.
    /// </summary>
    internal static void Insert(XElement parent, XElement element, XElement? after = null, XElement? before = null)
    {
        // Children written on one line (<features><acpi/><apic/></features>) get the new one the same way.
        if (parent.Elements().Any() && parent.Elements().All(e => e.PreviousNode is not XText))
        {
            if (after is not null)
            {
                after.AddAfterSelf(element);
            }
            else if (before is not null)
            {
                before.AddBeforeSelf(element);
            }
            else
            {
                parent.Elements().Last().AddAfterSelf(element);
            }

            return;
        }
        var childIndent = ChildIndent(parent);
        if (after is not null)
        {
            after.AddAfterSelf(new XText("\n" + childIndent), element);
        }
        else if (before is not null)
        {
            before.AddBeforeSelf(element, new XText("\n" + childIndent));
        }
        else if (parent.Elements().LastOrDefault() is { } last)
        {
            last.AddAfterSelf(new XText("\n" + childIndent), element);
        }
        else
        {
            var text = parent.Nodes().OfType<XText>().ToList();
            text.ForEach(t => t.Remove());
            parent.Add(new XText("\n" + childIndent), element, new XText("\n" + Indent(parent)));
        }
    }

    private static string ChildIndent(XElement parent)
    {
        if (parent.Elements().FirstOrDefault() is { } first && Indent(first) is { Length: > 0 } existing)
        {
            return existing;
        }

        var own = Indent(parent);
        var unit = parent.Document?.Root is { } root && root.Elements().FirstOrDefault() is { } top && Indent(top).Length > 0 ? Indent(top) : "  ";
        return own + unit;
    }

    /// <summary>The whitespace after the last line break before an element.</summary>
    private static string Indent(XElement e)
    {
        if (e.PreviousNode is XText t && !string.IsNullOrEmpty(t.Value) && string.IsNullOrWhiteSpace(t.Value))
        {
            var nl = t.Value.LastIndexOf('\n');
            return nl >= 0 ? t.Value[(nl + 1)..] : "";
        }
        return "";
    }

    /// <summary>Removes an element together with the whitespace that indented it.</summary>
    internal static void Remove(XElement e)
    {
        if (e.PreviousNode is XText t && string.IsNullOrWhiteSpace(t.Value))
        {
            t.Remove();
        }

        e.Remove();
    }
}
