using System.Reflection;
using VmDebug.HelpBuilder;

// vmdebug-helpbuilder --assembly VmDebug.dll --references-file refs.txt --docs docs/en-US --output DIR
// (refs.txt: the assemblies VmDebug.dll was compiled against, one path a line)
// Writes DIR/VmDebug.dll-Help.xml (cmdlet help), DIR/about_*.help.txt (about topics) and DIR/VmDebug.Types.ps1xml
// (typed results across serialization, see TypesWriter). A markdown file that breaks
// the form is reported as "file(line): error VMDHELP: ..." and fails the build; cmdlets or parameters without prose
// are listed as notes (the conformance tests fail on them), so a new parameter never stops a build.
var options = args.Chunk(2).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
if (!options.TryGetValue("--assembly", out var assemblyPath) || !options.TryGetValue("--docs", out var docs)
    || !options.TryGetValue("--output", out var output))
{
    Console.Error.WriteLine("usage: vmdebug-helpbuilder --assembly PATH [--references-file PATH] --docs DIR --output DIR");
    return 2;
}

var references = options.TryGetValue("--references-file", out var referencesFile)
    ? File.ReadAllLines(referencesFile).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray()
    : [];
var resolverPaths = references
    .Concat(Directory.GetFiles(Path.GetDirectoryName(Path.GetFullPath(assemblyPath))!, "*.dll"))
    .Concat(Directory.GetFiles(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "*.dll"))
    .Append(assemblyPath)
    .GroupBy(Path.GetFileName, StringComparer.Ordinal).Select(g => g.First());

try
{
    using var context = new MetadataLoadContext(new PathAssemblyResolver(resolverPaths));
    var module = context.LoadFromAssemblyPath(Path.GetFullPath(assemblyPath));
    var cmdlets = CmdletMetadata.ReadAll(module);
    var markdown = Directory.GetFiles(docs, "*.md").Order(StringComparer.Ordinal).ToList();
    var helps = markdown.Where(f => !Path.GetFileName(f).StartsWith("about_", StringComparison.Ordinal))
        .Select(f => CommandHelp.Parse(f, File.ReadAllText(f)))
        .ToDictionary(h => h.Name, StringComparer.OrdinalIgnoreCase);
    foreach (var help in helps.Values.Where(h => !cmdlets.Any(c => c.Name.Equals(h.Name, StringComparison.OrdinalIgnoreCase))))
    {
        throw new HelpMarkdownException(help.Path, 1, $"{help.Name} is not a cmdlet of {Path.GetFileName(assemblyPath)}");
    }

    var commands = new List<(CmdletMetadata, CommandHelp)>();
    foreach (var cmdlet in cmdlets)
    {
        if (!helps.TryGetValue(cmdlet.Name, out var help))
        {
            Console.WriteLine($"vmdebug-helpbuilder: note: {cmdlet.Name} has no {Path.Combine(docs, cmdlet.Name + ".md")}");
            help = new CommandHelp { Name = cmdlet.Name, Path = "" };
        }

        foreach (var parameter in cmdlet.Parameters.Where(p => !help.Parameters.ContainsKey(p.Name)))
        {
            Console.WriteLine($"vmdebug-helpbuilder: note: {cmdlet.Name} -{parameter.Name} has no prose in its markdown");
        }

        foreach (var stale in help.Parameters.Keys.Where(k => !cmdlet.Parameters.Any(p => p.Name.Equals(k, StringComparison.OrdinalIgnoreCase))))
        {
            throw new HelpMarkdownException(help.Path, 1, $"{cmdlet.Name} has no parameter -{stale}");
        }

        commands.Add((cmdlet, help));
    }

    Directory.CreateDirectory(output);
    var maml = MamlWriter.Write(commands);
    WriteIfChanged(Path.Combine(output, Path.GetFileName(assemblyPath) + "-Help.xml"), maml.Declaration + "\n" + maml.Root + "\n");
    // Output types live in the engine as well as the module: look them up in every assembly the module references.
    var assemblies = new[] { module }.Concat(module.GetReferencedAssemblies()
        .Where(a => a.Name?.StartsWith("VmDebug", StringComparison.Ordinal) == true).Select(context.LoadFromAssemblyName)).ToList();
    var outputTypes = cmdlets.SelectMany(c => c.OutputTypes).Distinct()
        .Select(name => assemblies.Select(a => a.GetType(name)).FirstOrDefault(t => t is not null)
            ?? throw new InvalidOperationException($"[OutputType] {name} is not a type of {string.Join(", ", assemblies.Select(a => a.GetName().Name))}"));
    var types = TypesWriter.Write(outputTypes);
    WriteIfChanged(Path.Combine(output, Path.GetFileNameWithoutExtension(assemblyPath) + ".Types.ps1xml"), types.Declaration + "\n" + types + "\n");

    foreach (var file in markdown.Where(f => Path.GetFileName(f).StartsWith("about_", StringComparison.Ordinal)))
    {
        var (name, text) = AboutTopicWriter.Render(file, File.ReadAllText(file));
        WriteIfChanged(Path.Combine(output, name + ".help.txt"), text);
    }

    return 0;
}
catch (HelpMarkdownException e)
{
    Console.Error.WriteLine($"{e.Path}({e.Line}): error VMDHELP: {e.Message}");
    return 1;
}

// Unchanged help keeps its timestamp, so incremental builds copy nothing.
static void WriteIfChanged(string path, string text)
{
    if (File.Exists(path) && File.ReadAllText(path) == text)
    {
        return;
    }

    var temporary = path + ".tmp";
    File.WriteAllText(temporary, text);
    File.Move(temporary, path, overwrite: true);
}
