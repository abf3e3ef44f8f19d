namespace VmDebug.Engine;

/// <summary>One progress report from a long engine operation.</summary>
/// <param name="Activity">What is running, e.g. "Dumping guest memory of vm1".</param>
/// <param name="Status">The current phase in a few words.</param>
/// <param name="PercentComplete">0-100, or -1 when unknown.</param>
/// <param name="BytesDone">Bytes processed so far, or -1.</param>
/// <param name="BytesTotal">Total bytes, or -1 when unknown.</param>
/// <param name="BytesPerSecond">Current rate, or -1.</param>
/// <param name="Completed">True once, on the final report.</param>
public sealed record OperationProgress(
    string Activity,
    string Status,
    int PercentComplete = -1,
    long BytesDone = -1,
    long BytesTotal = -1,
    double BytesPerSecond = -1,
    bool Completed = false);
