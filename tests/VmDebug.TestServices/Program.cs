using System.Text.Json;
using VmDebug.TestServices;

// vmdebug-testhost: test services for the Pester suite (tests/pester/common.ps1), one implementation shared with xunit.
//   vmdebug-testhost libvirtd    starts the private libvirtd, prints one JSON line describing it, and serves until its
//                                standard input closes (so a test run that dies takes the daemon with it); then stops it.
//   vmdebug-testhost debuginfod (-F|-U) DIR
//                                likewise a private debuginfod over DIR (-F: ELF files, -U: .deb packages), once scanned.
// A missing daemon prints {"skipReason": "..."} and exits 0, so the caller can skip naming the apt package.
if (args is ["debuginfod", "-F" or "-U", var scanDirectory])
{
    return await DebuginfodCommand.RunAsync(args[1] == "-U" ? DebuginfodScan.DebianPackages : DebuginfodScan.ElfFiles, scanDirectory);
}

if (args is not ["libvirtd"])
{
    Console.Error.WriteLine("usage: vmdebug-testhost libvirtd | vmdebug-testhost debuginfod (-F|-U) DIR");
    return 2;
}

var (libvirtd, virtlogd, missing) = LibvirtTestDaemon.FindDaemons();
if (missing is not null)
{
    Console.WriteLine(JsonSerializer.Serialize(new { skipReason = missing }));
    return 0;
}

await using var daemon = await LibvirtTestDaemon.StartAsync(libvirtd!, virtlogd!);
Console.WriteLine(JsonSerializer.Serialize(new
{
    uri = daemon.Uri,
    readOnlyUri = daemon.ReadOnlyUri,
    socketPath = daemon.SocketPath,
    rootDirectory = daemon.RootDirectory,
    qemuConfPath = daemon.QemuConfPath,
    runDirectory = daemon.RunDirectory,
    daemonProcessId = daemon.DaemonProcessId,
}));
await Console.Out.FlushAsync();
await Console.In.ReadToEndAsync();
return 0;
