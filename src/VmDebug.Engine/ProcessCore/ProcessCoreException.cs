namespace VmDebug.Engine.ProcessCore;

/// <summary>A QEMU process core cannot be turned into a guest vmcore; <see cref="VmDebugException.ErrorId"/> says why.</summary>
public sealed class ProcessCoreException : VmDebugException
{
    public const string NotACore = "ProcessCoreNotACore";
    public const string Truncated = "ProcessCoreTruncated";
    public const string NotQemu = "ProcessCoreNotQemu";
    public const string NoGuestRam = "ProcessCoreNoGuestRam";
    public const string MachineUnknown = "ProcessCoreMachineUnknown";
    public const string LayoutAmbiguous = "ProcessCoreLayoutAmbiguous";
    public const string LayoutInvalid = "ProcessCoreLayoutInvalid";
    public const string Compressed = "ProcessCoreCompressed";
    public const string CommandLineUnreadable = "ProcessCoreCommandLineUnreadable";

    public ProcessCoreException(string errorId, ErrorKind kind, string path, string message, Exception? inner = null)
        : base(errorId, kind, $"{path}: {message}", path, inner)
    {
        Path = path;
    }

    /// <summary>"Give -GuestMemoryLayout …": the remedy of every layout the core does not settle by itself.</summary>
    public static Remedy LayoutRemedy(string howTo) => new("Give {0} " + howTo + ".", RemedyTerm.Of(RemedyParameter.GuestMemoryLayout));

    /// <summary>The core file concerned.</summary>
    public string Path { get; }
}
