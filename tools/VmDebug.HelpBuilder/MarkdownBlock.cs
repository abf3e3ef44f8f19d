namespace VmDebug.HelpBuilder;

/// <summary>A paragraph (lines joined) or a fenced code block (lines kept, with its info string).</summary>
internal sealed record MarkdownBlock(string Text, bool IsCode, string Language, int Line);
