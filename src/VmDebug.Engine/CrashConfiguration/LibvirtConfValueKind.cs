namespace VmDebug.Engine.CrashConfiguration;

/// <summary>The value kinds libvirt's config grammar knows (virconf.c: string, signed/unsigned integer, list).</summary>
public enum LibvirtConfValueKind { String, Integer, List }
