namespace VmDebug.Engine.CrashConfiguration;

/// <summary>One <c>name = value</c> statement. Offsets index the file text; lines are 1-based.</summary>
public sealed record LibvirtConfEntry(string Name, LibvirtConfValue Value, int StatementStart, int ValueStart, int ValueEnd, int StatementEnd, int Line);
