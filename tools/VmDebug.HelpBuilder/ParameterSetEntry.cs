namespace VmDebug.HelpBuilder;

/// <summary>How a parameter binds in one parameter set (one [Parameter] attribute).</summary>
internal sealed record ParameterSetEntry(bool Mandatory, int? Position, bool ByValue, bool ByPropertyName);
