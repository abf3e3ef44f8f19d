namespace VmDebug.Engine.CrashConfiguration;

/// <summary>
/// A comment line that looks like a commented-out setting. <see cref="Tight"/> when the name follows '#' directly
/// (<c>#max_core = "unlimited"</c>), the way stock files show defaults; indented ones are usually prose examples.
/// </summary>
public sealed record LibvirtConfCommentedSetting(string Name, string ValueText, int BlockEnd, int Line, bool Tight);
