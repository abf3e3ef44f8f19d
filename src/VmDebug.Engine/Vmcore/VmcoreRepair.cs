namespace VmDebug;

/// <summary>One fix applied to a dump so makedumpfile and crash read it.</summary>
public sealed class VmcoreRepair
{
    public VmcoreRepair(string code, string description)
    {
        Code = code;
        Description = description;
    }

    /// <summary>Stable identifier: FlattenedReassembled, PhysBaseCorrected, UtsReleaseFilled, ElfHeaderRelaidOut.</summary>
    public string Code { get; }

    public string Description { get; }

    public override string ToString() => $"{Code}: {Description}";
}
