using System.Runtime.InteropServices;

namespace VmDebug.Engine.Native;

/// <summary>
/// Entry points of libvirt.so.0 and libvirt-qemu.so.0 (package libvirt0). Signatures follow libvirt 9.0's public
/// headers (libvirt-host.h, libvirt-domain.h, libvirt-event.h, virterror.h, libvirt-qemu.h).
/// Strings libvirt returns as <c>char *</c> are owned by the caller and freed with libc free(), which is what
/// <see cref="NativeMemory.Free"/> calls on Linux.
/// </summary>
internal static unsafe partial class LibvirtNative
{
    internal const string Library = "libvirt.so.0";
    internal const string QemuLibrary = "libvirt-qemu.so.0";
    internal const string AptPackage = "libvirt0";

    /// <summary>virError (virterror.h): the deprecated conn/dom/net pointers keep their slots.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct VirError
    {
        public int Code;
        public int Domain;
        public byte* Message;
        public int Level;
        public nint Conn;
        public nint Dom;
        public byte* Str1;
        public byte* Str2;
        public byte* Str3;
        public int Int1;
        public int Int2;
        public nint Net;
    }

    /// <summary>virDomainJobInfo (libvirt-domain.h): an int followed by eleven unsigned long longs.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct VirDomainJobInfo
    {
        public int Type;
        public ulong TimeElapsed;
        public ulong TimeRemaining;
        public ulong DataTotal;
        public ulong DataProcessed;
        public ulong DataRemaining;
        public ulong MemTotal;
        public ulong MemProcessed;
        public ulong MemRemaining;
        public ulong FileTotal;
        public ulong FileProcessed;
        public ulong FileRemaining;
    }

    [LibraryImport(Library)] internal static partial int virInitialize();
    [LibraryImport(Library)] internal static partial VirError* virGetLastError();
    [LibraryImport(Library)] internal static partial void virResetLastError();
    [LibraryImport(Library)] internal static partial void virSetErrorFunc(nint userData, delegate* unmanaged<nint, VirError*, void> handler);
    [LibraryImport(Library)] internal static partial int virGetVersion(out nuint libVer, nint type, nint typeVer);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint virConnectOpen(string? name);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint virConnectOpenReadOnly(string? name);
    [LibraryImport(Library)] internal static partial int virConnectClose(nint conn);
    [LibraryImport(Library)] internal static partial int virConnectGetVersion(LibvirtConnectionHandle conn, out nuint hvVer);
    [LibraryImport(Library)] internal static partial int virConnectGetLibVersion(LibvirtConnectionHandle conn, out nuint libVer);
    [LibraryImport(Library)] internal static partial byte* virConnectGetURI(LibvirtConnectionHandle conn);
    [LibraryImport(Library)] internal static partial int virConnectIsAlive(LibvirtConnectionHandle conn);
    [LibraryImport(Library)] internal static partial int virConnectListAllDomains(LibvirtConnectionHandle conn, out nint* domains, uint flags);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint virDomainLookupByName(LibvirtConnectionHandle conn, string name);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint virDomainDefineXML(LibvirtConnectionHandle conn, string xml);
    [LibraryImport(Library)] internal static partial int virDomainFree(nint domain);
    [LibraryImport(Library)] internal static partial byte* virDomainGetName(LibvirtDomainHandle domain);
    [LibraryImport(Library)] internal static partial byte* virDomainGetName(nint domain);
    [LibraryImport(Library)] internal static partial uint virDomainGetID(LibvirtDomainHandle domain);
    [LibraryImport(Library)] internal static partial int virDomainGetUUIDString(LibvirtDomainHandle domain, byte* buf);
    [LibraryImport(Library)] internal static partial int virDomainGetUUIDString(nint domain, byte* buf);
    [LibraryImport(Library)] internal static partial int virDomainIsActive(LibvirtDomainHandle domain);
    [LibraryImport(Library)] internal static partial int virDomainGetState(LibvirtDomainHandle domain, out int state, out int reason, uint flags);
    [LibraryImport(Library)] internal static partial byte* virDomainGetXMLDesc(LibvirtDomainHandle domain, uint flags);
    [LibraryImport(Library)] internal static partial int virDomainCreate(LibvirtDomainHandle domain);
    [LibraryImport(Library)] internal static partial int virDomainDestroy(LibvirtDomainHandle domain);
    [LibraryImport(Library)] internal static partial int virDomainUndefineFlags(LibvirtDomainHandle domain, uint flags);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int virDomainCoreDumpWithFormat(LibvirtDomainHandle domain, string to, uint dumpformat, uint flags);
    [LibraryImport(Library)] internal static partial int virDomainGetJobInfo(LibvirtDomainHandle domain, out VirDomainJobInfo info);
    [LibraryImport(Library)] internal static partial int virDomainAbortJob(LibvirtDomainHandle domain);
    [LibraryImport(Library)]
    internal static partial int virDomainGetJobStats(LibvirtDomainHandle domain, out int type, out nint parameters, out int count, uint flags);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int virTypedParamsGetInt(nint parameters, int count, string name, out int value);
    [LibraryImport(Library)] internal static partial void virTypedParamsFree(nint parameters, int count);

    [LibraryImport(Library)] internal static partial int virEventRegisterDefaultImpl();
    [LibraryImport(Library)] internal static partial int virEventRunDefaultImpl();
    [LibraryImport(Library)]
    internal static partial int virEventAddTimeout(int frequency, delegate* unmanaged<int, nint, void> cb, nint opaque, nint freecb);
    [LibraryImport(Library)] internal static partial int virEventRemoveTimeout(int timer);

    [LibraryImport(Library)]
    internal static partial int virConnectDomainEventRegisterAny(
        LibvirtConnectionHandle conn, nint dom, int eventId, nint cb, nint opaque, delegate* unmanaged<nint, void> freecb);
    [LibraryImport(Library)] internal static partial int virConnectDomainEventDeregisterAny(nint conn, int callbackId);

    [LibraryImport(Library)] internal static partial int virDomainMemoryPeek(LibvirtDomainHandle domain, ulong start, nuint size, void* buffer, uint flags);
    [LibraryImport(Library)] internal static partial int virDomainSuspend(LibvirtDomainHandle domain);
    [LibraryImport(Library)] internal static partial int virDomainResume(LibvirtDomainHandle domain);
    [LibraryImport(Library)] internal static partial int virDomainReset(LibvirtDomainHandle domain, uint flags);
    [LibraryImport(Library)] internal static partial int virDomainInjectNMI(LibvirtDomainHandle domain, uint flags);

    [LibraryImport(QemuLibrary, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int virDomainQemuMonitorCommand(LibvirtDomainHandle domain, string cmd, out byte* result, uint flags);

    internal static string? Utf8(byte* s) => s == null ? null : Marshal.PtrToStringUTF8((nint)s);

    /// <summary>Reads a libvirt-allocated string and frees it.</summary>
    internal static string? TakeUtf8(byte* s)
    {
        if (s == null)
        {
            return null;
        }

        try { return Marshal.PtrToStringUTF8((nint)s); }
        finally { NativeMemory.Free(s); }
    }
}
