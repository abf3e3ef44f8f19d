namespace VmDebug.Engine.Qmp;

/// <summary>Result of <c>query-dump</c>: bytes written so far out of the total.</summary>
public sealed record QmpDumpStatus(QmpDumpState Status, long Completed, long Total);
