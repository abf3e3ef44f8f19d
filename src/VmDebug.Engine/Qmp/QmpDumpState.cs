namespace VmDebug.Engine.Qmp;

/// <summary>State of the current or last memory dump (<c>query-dump</c>'s <c>status</c>).</summary>
public enum QmpDumpState
{
    None,
    Active,
    Completed,
    Failed,
}
