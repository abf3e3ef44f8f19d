namespace VmDebug;

public enum DumpSource
{
    Qmp,
    Libvirt,
    QemuProcessCore,
    VmcoreFile,
}
