CMD = dict(
    name="Get-VsockKmsgStream",
    synopsis="Streams guests' kernel logs (/dev/kmsg forwarded over vsock, hybrid vsock or a virtio-serial port) as KmsgRecord objects, as they arrive.",
    description="""Get-VsockKmsgStream receives the kernel log that guests forward from /dev/kmsg and writes one KmsgRecord per log record to the pipeline as soon as it arrives: Sequence, SinceBoot, Level, Facility, Message, Fields (the SUBSYSTEM=, DEVICE= continuation lines), Caller, Truncated and Guest (the vsock CID, the libvirt domain name, or the socket path).

It reads one of four transports. -Port listens on AF_VSOCK for any number of guests at once (-Cid admits only the listed guest CIDs). -HybridVsockPath with -Port listens on the Unix socket <path>_<port>, where Firecracker, Cloud Hypervisor and vhost-device-vsock connect when their guest connects to host port <port>. -ChardevSocket connects to a QEMU chardev Unix socket, such as a virtio-serial port. -Domain asks libvirt for the domain's live XML and reads its virtio channel named org.vmdebug.kmsg or, with -Port, listens for its <vsock> CID.

Guests are untrusted. Records longer than 16 KiB are cut and marked Truncated, each connection may hold at most 1 MiB, at most 64 guests are connected at once, and a guest that floods is paused without delaying the others. Control characters (ANSI escape sequences included) are escaped in DisplayMessage, which the default view shows; Message holds the decoded text.

Connections and disconnections are written as verbose messages. Refused connections, sequence gaps (records the guest's ring overwrote before they were read), sequence resets (the guest rebooted) and malformed input are written as warnings; the stream goes on.

The stream ends after -Count records, after -Timeout seconds, when a chardev socket closes, or on Ctrl+C; every socket is closed and a listening socket file removed either way. The guest side, and why the last lines before a panic never arrive, are described in about_VmDebug_Kmsg.""",
    sets={
        "Vsock": ["Port", "Cid", "Count", "Timeout", "MinimumLevel"],
        "HybridVsock": ["HybridVsockPath", "Port", "Count", "Timeout", "MinimumLevel"],
        "Chardev": ["ChardevSocket", "Count", "Timeout", "MinimumLevel"],
        "Domain": ["Domain", "ConnectionUri", "Port", "Count", "Timeout", "MinimumLevel"],
    },
    required={"Vsock": ["Port"], "HybridVsock": ["HybridVsockPath", "Port"], "Chardev": ["ChardevSocket"], "Domain": ["Domain"]},
    parameters=[
        dict(name="Port", type="UInt32",
             description="The vsock port guests connect to. With -HybridVsockPath, the port whose socket <path>_<port> is listened on. With -Domain, selects the domain's <vsock> device instead of its channel; without it -Domain reads the channel."),
        dict(name="Cid", type="UInt32[]",
             description="Guest CIDs allowed to connect on -Port. Connections from any other CID are closed at once and reported as a warning. Without it any guest may connect."),
        dict(name="HybridVsockPath", type="String",
             description="The VMM's vsock Unix socket (Firecracker's uds_path, Cloud Hypervisor's socket, vhost-device-vsock's uds-path). The cmdlet listens on <HybridVsockPath>_<Port>, which must not exist yet."),
        dict(name="ChardevSocket", type="String",
             description="A QEMU chardev Unix socket to connect to, e.g. of -chardev socket,id=k,path=PATH,server=on,wait=off -device virtserialport,chardev=k,name=org.vmdebug.kmsg. QEMU serves one client at a time."),
        dict(name="Domain", type="String", required=True, position="0", pipeline="True (ByPropertyName)",
             description="A libvirt domain whose live XML has a virtio channel named org.vmdebug.kmsg (a Unix socket in bind mode) or a <vsock> device (with -Port). Records carry the domain's name as Guest. A domain with neither is refused with the XML to add. Alias: Name."),
        dict(name="ConnectionUri", type="String", default="qemu:///system",
             description="The libvirt connection URI. The domain's XML is read over a read-only connection."),
        dict(name="Count", type="Int32", default="0",
             description="Stop after this many records (warnings and verbose messages do not count). 0: no limit."),
        dict(name="Timeout", type="Int32", default="0",
             description="Stop after this many seconds, without an error. 0: until Ctrl+C, -Count, or a chardev socket closing."),
        dict(name="MinimumLevel", type="KmsgLevel", default="Debug",
             description="The least severe level passed on: Emerg, Alert, Crit, Err, Warn, Notice, Info or Debug. Warn passes Emerg to Warn."),
    ],
    inputs=[("System.String", "Domain can come from the pipeline by property name.")],
    outputs=[("VmDebug.KmsgRecord", "One per kernel log record: Sequence, SinceBoot, Level, Facility, Flags, Message, RawMessage, DisplayMessage, Fields, Caller, Truncated, Guest, Connection, Received.")],
    notes="Error ids: VsockUnavailable (no AF_VSOCK in this kernel), VsockPortInUse, VsockBindFailed, KmsgSocketPathExists, KmsgListenFailed, KmsgConnectFailed, KmsgDomainHasNoEndpoint, KmsgDomainHasNoVsock, KmsgDomainPortRequired, KmsgDomainNotRunning, KmsgDomainChannelUnsupported, LibvirtDomainNotFound.",
    examples=[
        ("Follow a libvirt guest's kernel log", "Get-VsockKmsgStream -Domain web1 -MinimumLevel Warn",
         "Reads web1's org.vmdebug.kmsg channel and shows warnings and worse until Ctrl+C."),
        ("Collect from every guest on a vsock port", "Get-VsockKmsgStream -Port 7000 -Cid 3,4,5 -Timeout 600 | Export-Csv kmsg.csv",
         "Guests forward /dev/kmsg with socat - VSOCK-CONNECT:2:7000 < /dev/kmsg; records of all three arrive interleaved, each naming its CID."),
        ("Read a QEMU virtio-serial port", "Get-VsockKmsgStream -ChardevSocket /run/vm1/kmsg.sock -Count 100 | Where-Object Level -le Err",
         "Takes the first 100 records, boot messages from sequence 0 included, and keeps errors and worse."),
        ("Receive from a Firecracker guest", "Get-VsockKmsgStream -HybridVsockPath /srv/fc/v.sock -Port 7000 -Verbose",
         "Listens on /srv/fc/v.sock_7000, where Firecracker connects when the guest connects to host port 7000."),
    ],
    links=["about_VmDebug_Kmsg", "Invoke-GuestMemoryDump", "Wait-GuestPanic"],
)
