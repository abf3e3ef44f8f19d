namespace VmDebug.Engine.Qmp;

/// <summary>Result of <c>query-status</c>.</summary>
/// <param name="Running">True while vCPUs run.</param>
/// <param name="Status">QEMU's run state, e.g. <c>running</c>, <c>paused</c>, <c>prelaunch</c>, <c>guest-panicked</c>.</param>
public sealed record QmpStatus(bool Running, string Status);
