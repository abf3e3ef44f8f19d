namespace VmDebug.Engine.ProcessCore;

/// <summary>The family of a QEMU x86 machine type, which fixes where RAM sits in guest-physical space.</summary>
public enum QemuMachineFamily
{
    Unknown,
    /// <summary>pc, pc-i440fx-*, pc-0.x/pc-1.x (hw/i386/pc_piix.c).</summary>
    I440fx,
    /// <summary>q35, pc-q35-* (hw/i386/pc_q35.c).</summary>
    Q35,
}
