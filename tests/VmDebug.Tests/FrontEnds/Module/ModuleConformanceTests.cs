using System.Text.RegularExpressions;
using System.Xml.Linq;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.FrontEnds.Module;

/// <summary>The manifest, the help and the formats agree with the compiled cmdlets.</summary>
public sealed partial class ModuleConformanceTests : IClassFixture<CmdletAssembly>
{
    // Get-Verb of PowerShell 7.4.
    private static readonly HashSet<string> ApprovedVerbs =
    [
        "Add", "Clear", "Close", "Copy", "Enter", "Exit", "Find", "Format", "Get", "Hide", "Join", "Lock", "Move", "New",
        "Open", "Optimize", "Pop", "Push", "Redo", "Remove", "Rename", "Reset", "Resize", "Search", "Select", "Set",
        "Show", "Skip", "Split", "Step", "Switch", "Undo", "Unlock", "Watch", "Connect", "Disconnect", "Read", "Receive",
        "Send", "Write", "Backup", "Checkpoint", "Compare", "Compress", "Convert", "ConvertFrom", "ConvertTo",
        "Dismount", "Edit", "Expand", "Export", "Group", "Import", "Initialize", "Limit", "Merge", "Mount", "Out",
        "Publish", "Restore", "Save", "Sync", "Unpublish", "Update", "Approve", "Assert", "Build", "Complete", "Confirm",
        "Deny", "Deploy", "Disable", "Enable", "Install", "Invoke", "Register", "Request", "Restart", "Resume", "Start",
        "Stop", "Submit", "Suspend", "Uninstall", "Unregister", "Wait", "Debug", "Measure", "Ping", "Repair", "Resolve",
        "Test", "Trace", "Block", "Grant", "Protect", "Revoke", "Unblock", "Unprotect", "Use",
    ];

    // Verbs that change state on the host, a guest or the file system must honour -WhatIf/-Confirm.
    private static readonly HashSet<string> StateChangingVerbs =
    [
        "Add", "Clear", "Convert", "ConvertTo", "Disable", "Enable", "Install", "Invoke", "Move", "New", "Remove",
        "Rename", "Repair", "Reset", "Restart", "Resume", "Set", "Start", "Stop", "Suspend", "Uninstall", "Update",
        "Register", "Unregister", "Export", "Save",
    ];

    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    private readonly CmdletAssembly _module;

    public ModuleConformanceTests(CmdletAssembly module) => _module = module;

    public static IEnumerable<string> ManifestExports()
    {
        var manifest = File.ReadAllText(Path.Combine(TestEnvironment.RepoRoot, "VmDebug.psd1"));
        var block = CmdletsToExportBlock().Match(manifest);
        Assert.True(block.Success, "VmDebug.psd1 has no CmdletsToExport = @( ... ) block");
        return QuotedName().Matches(block.Groups[1].Value).Select(m => m.Groups[1].Value);
    }

    [Fact]
    public void TheAssemblyHasCmdlets() => Assert.NotEmpty(_module.Cmdlets);

    [Fact]
    public void ManifestExportsExactlyTheCompiledCmdlets()
    {
        Assert.Equal(_module.Cmdlets.Select(c => c.Name).Order(StringComparer.Ordinal), ManifestExports().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ManifestDeclaresCoreEditionAndExportsNothingElse()
    {
        var manifest = File.ReadAllText(Path.Combine(TestEnvironment.RepoRoot, "VmDebug.psd1"));
        Assert.Matches(@"CompatiblePSEditions\s*=\s*@\('Core'\)", manifest);
        Assert.Matches(@"PowerShellVersion\s*=\s*'7\.4'", manifest);
        Assert.Matches(@"RootModule\s*=\s*'VmDebug\.dll'", manifest);
        Assert.Matches(@"FormatsToProcess\s*=\s*@\('VmDebug\.Format\.ps1xml'\)", manifest);
        foreach (var key in new[] { "FunctionsToExport", "VariablesToExport", "AliasesToExport" })
        {
            Assert.Matches(key + @"\s*=\s*@\(\)", manifest);
        }
    }

    [Fact]
    public void VerbsAreApproved()
    {
        Assert.All(_module.Cmdlets, c => Assert.True(ApprovedVerbs.Contains(c.Verb), $"{c.Name}: '{c.Verb}' is not an approved verb"));
    }

    [Fact]
    public void EveryCmdletDeclaresItsOutputType()
    {
        Assert.All(_module.Cmdlets, c => Assert.True(c.OutputTypeNames.Count > 0, $"{c.Name} has no [OutputType]"));
    }

    [Fact]
    public void OutputTypesAreSealedClassesInTheVmDebugNamespace()
    {
        foreach (var typeName in _module.Cmdlets.SelectMany(c => c.OutputTypeNames).Distinct())
        {
            Assert.StartsWith("VmDebug.", typeName);
            var type = _module.FindType(typeName);
            Assert.True(type is not null, $"{typeName} cannot be found");
            Assert.True(type!.IsSealed, $"{typeName} is not sealed");
            Assert.Equal("VmDebug", type.Namespace);
        }
    }

    [Fact]
    public void StateChangingCmdletsSupportShouldProcess()
    {
        Assert.All(_module.Cmdlets.Where(c => StateChangingVerbs.Contains(c.Verb)),
            c => Assert.True(c.SupportsShouldProcess, $"{c.Name} changes state but lacks SupportsShouldProcess"));
    }

    [Fact]
    public void HelpIsWellFormedMaml()
    {
        var help = LoadHelp();
        Assert.Equal("helpItems", help.Root!.Name.LocalName);
        Assert.Equal("maml", (string?)help.Root.Attribute("schema"));
        foreach (var command in help.Root.Elements(Command + "command"))
        {
            var details = command.Element(Command + "details");
            Assert.NotNull(details);
            Assert.False(string.IsNullOrWhiteSpace(details!.Element(Command + "name")?.Value));
            Assert.False(string.IsNullOrWhiteSpace(details.Element(Maml + "description")?.Value), "synopsis missing");
            Assert.NotNull(details.Element(Command + "verb"));
            Assert.NotNull(details.Element(Command + "noun"));
            Assert.NotNull(command.Element(Command + "syntax"));
            Assert.NotEmpty(command.Element(Command + "examples")?.Elements(Command + "example") ?? []);
        }
    }

    [Fact]
    public void EveryCmdletAndParameterHasHelp()
    {
        var commands = LoadHelp().Root!.Elements(Command + "command")
            .ToDictionary(c => c.Element(Command + "details")!.Element(Command + "name")!.Value.Trim());
        Assert.Equal(_module.Cmdlets.Select(c => c.Name).Order(StringComparer.Ordinal), commands.Keys.Order(StringComparer.Ordinal));
        foreach (var cmdlet in _module.Cmdlets)
        {
            var command = commands[cmdlet.Name];
            Assert.False(string.IsNullOrWhiteSpace(command.Element(Maml + "description")?.Value), $"{cmdlet.Name}: no description");
            var documented = (command.Element(Command + "parameters")?.Elements(Command + "parameter") ?? [])
                .ToDictionary(p => p.Element(Maml + "name")!.Value.Trim(), p => p.Element(Maml + "description")?.Value.Trim() ?? "");
            foreach (var parameter in cmdlet.ParameterNames)
            {
                Assert.True(documented.TryGetValue(parameter, out var text) && text.Length > 0, $"{cmdlet.Name} -{parameter} has no help");
            }

            // ShouldProcess adds -WhatIf and -Confirm; the help documents them for exactly those cmdlets.
            string[] shouldProcess = cmdlet.SupportsShouldProcess ? ["WhatIf", "Confirm"] : [];
            Assert.All(shouldProcess, p => Assert.True(documented.ContainsKey(p), $"{cmdlet.Name} -{p} has no help"));
            Assert.Empty(documented.Keys.Except(cmdlet.ParameterNames).Except(shouldProcess));
            var returnTypes = (command.Element(Command + "returnValues")?.Elements(Command + "returnValue") ?? [])
                .Select(r => r.Element(Dev + "type")?.Element(Maml + "name")?.Value.Trim()).ToList();
            Assert.All(cmdlet.OutputTypeNames, t => Assert.Contains(t, returnTypes));
        }
    }

    [Fact]
    public void EveryOutputTypeHasAFormatView()
    {
        var formats = XDocument.Load(Path.Combine(TestEnvironment.RepoRoot, "VmDebug.Format.ps1xml"));
        var viewed = formats.Descendants("ViewSelectedBy").Elements("TypeName").Select(t => t.Value.Trim()).ToHashSet();
        Assert.All(_module.Cmdlets.SelectMany(c => c.OutputTypeNames).Distinct(), t => Assert.Contains(t, viewed));
    }

    [Fact]
    public void BuildOutputIsALoadableModuleFolder()
    {
        foreach (var file in new[] { "VmDebug.psd1", "VmDebug.dll", "VmDebug.Engine.dll", "VmDebug.Format.ps1xml", Path.Combine("en-US", "VmDebug.dll-Help.xml") })
        {
            Assert.True(File.Exists(Path.Combine(_module.ModuleDirectory, file)), $"{file} is missing from the module folder");
        }

        // A stub System.Management.Automation beside the module would shadow the real one in pwsh.
        Assert.False(File.Exists(Path.Combine(_module.ModuleDirectory, "System.Management.Automation.dll")));
    }

    // The help the build generated (tools/VmDebug.HelpBuilder) from the compiled cmdlets and docs/en-US/*.md.
    private XDocument LoadHelp() => XDocument.Load(Path.Combine(_module.ModuleDirectory, "en-US", "VmDebug.dll-Help.xml"));

    [GeneratedRegex(@"CmdletsToExport\s*=\s*@\((.*?)\)", RegexOptions.Singleline)]
    private static partial Regex CmdletsToExportBlock();

    [GeneratedRegex(@"'([^']+)'")]
    private static partial Regex QuotedName();
}
