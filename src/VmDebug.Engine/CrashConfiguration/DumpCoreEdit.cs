namespace VmDebug.Engine.CrashConfiguration;

/// <summary>&lt;memory dumpCore&gt; edits: on, off, or remove (qemu.conf dump_guest_core decides again).</summary>
public enum DumpCoreEdit { On, Off, Remove }
