namespace VmDebug.HelpBuilder;

/// <summary>A markdown help file that breaks the form the builder reads; reported as file(line): error.</summary>
internal sealed class HelpMarkdownException(string path, int line, string message) : Exception(message)
{
    public string Path { get; } = path;
    public int Line { get; } = line;
}
