namespace VmDebug;

/// <summary>
/// Panic device models libvirt knows. Auto lets <see cref="PanicModelSelector"/> decide when a domain has no panic
/// device yet; read back, it is a &lt;panic&gt; that names no model (libvirt then picks by architecture).
/// </summary>
public enum GuestPanicModel { Auto, Isa, Pvpanic, Hyperv, Pseries, S390 }
