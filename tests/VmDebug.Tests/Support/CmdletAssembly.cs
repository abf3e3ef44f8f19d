using System.Reflection;
using System.Runtime.InteropServices;

namespace VmDebug.Tests.Support;

/// <summary>
/// The compiled cmdlet assembly, inspected through MetadataLoadContext: its System.Management.Automation is a
/// compile-time stub, so the assembly is read as metadata and never executed.
/// </summary>
public sealed class CmdletAssembly : IDisposable
{
    private readonly MetadataLoadContext _context;

    public CmdletAssembly()
    {
        // The test assembly's own configuration folder (bin/Debug or bin/Release) locates the matching module build.
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        ModuleDirectory = Path.Combine(TestEnvironment.RepoRoot, "src", "VmDebug", "bin", configuration, "net8.0");
        var modulePath = Path.Combine(ModuleDirectory, "VmDebug.dll");
        var sma = Directory.GetFiles(
            Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages", "powershellstandard.library"),
            "System.Management.Automation.dll", SearchOption.AllDirectories)
            .OrderByDescending(path => path.Contains("preview", StringComparison.Ordinal) ? 0 : 1).ThenByDescending(path => path, StringComparer.Ordinal).First();
        var paths = Directory.GetFiles(RuntimeEnvironment.GetRuntimeDirectory(), "*.dll")
            .Concat(Directory.GetFiles(ModuleDirectory, "*.dll"))
            .Append(sma);
        _context = new MetadataLoadContext(new PathAssemblyResolver(paths));
        Assembly = _context.LoadFromAssemblyPath(modulePath);
        Cmdlets = Assembly.GetTypes()
            .Select(type => (Type: type, Attribute: type.GetCustomAttributesData()
                .SingleOrDefault(a => a.AttributeType.FullName == "System.Management.Automation.CmdletAttribute")))
            .Where(t => t.Attribute is not null)
            .Select(t => new CmdletInfo(t.Type, t.Attribute!))
            .OrderBy(c => c.Name, StringComparer.Ordinal)
            .ToList();
    }

    public string ModuleDirectory { get; }
    public Assembly Assembly { get; }
    public IReadOnlyList<CmdletInfo> Cmdlets { get; }

    /// <summary>A type of the module or of the engine it ships with (output types live in the engine).</summary>
    public Type? FindType(string fullName) =>
        Assembly.GetType(fullName) ?? _context.LoadFromAssemblyName("VmDebug.Engine").GetType(fullName);

    public void Dispose() => _context.Dispose();
}

public sealed class CmdletInfo(Type type, CustomAttributeData cmdletAttribute)
{
    private static readonly HashSet<string> CommonParameters =
    [
        "Verbose", "Debug", "ErrorAction", "WarningAction", "InformationAction", "ProgressAction", "ErrorVariable",
        "WarningVariable", "InformationVariable", "OutVariable", "OutBuffer", "PipelineVariable", "WhatIf", "Confirm",
    ];

    public Type Type { get; } = type;
    public string Verb { get; } = (string)cmdletAttribute.ConstructorArguments[0].Value!;
    public string Noun { get; } = (string)cmdletAttribute.ConstructorArguments[1].Value!;
    public string Name => $"{Verb}-{Noun}";

    public bool SupportsShouldProcess { get; } = cmdletAttribute.NamedArguments
        .Any(a => a.MemberName == "SupportsShouldProcess" && a.TypedValue.Value is true);

    public IReadOnlyList<string> OutputTypeNames => Type.GetCustomAttributesData()
        .Where(a => a.AttributeType.FullName == "System.Management.Automation.OutputTypeAttribute")
        .SelectMany(a => a.ConstructorArguments)
        .SelectMany(arg => arg.Value is IEnumerable<CustomAttributeTypedArgument> many ? many.Select(m => m.Value) : [arg.Value])
        .Select(v => v is Type t ? t.FullName! : v?.ToString() ?? "")
        .ToList();

    public IReadOnlyList<string> ParameterNames => Type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.GetCustomAttributesData().Any(a => a.AttributeType.FullName == "System.Management.Automation.ParameterAttribute"))
        .Select(p => p.Name)
        .Where(n => !CommonParameters.Contains(n))
        .ToList();

    public override string ToString() => Name;
}
