using VmDebug.Engine.Guest;

namespace VmDebug.Tests.Support;

/// <summary>
/// The watcher end to end with Send-GuestNmi and debuginfod. The watcher holds each guest's qmp.sock (QMP serves one
/// client), so the NMI and the test's own queries go through a second monitor, ctl.sock, as an admin would add one.
/// </summary>
public static class WatchedGuest
{
    public static Task<QemuGuest> StartAsync(string directory, GuestImage image, GuestLaunchOptions options, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        return QemuGuest.StartAsync(image, options with
        {
            QemuArguments = ["-qmp", $"unix:{WatcherRun.ControlSocket(directory)},server=on,wait=off"],
        }, directory, cancellationToken);
    }

    public static async Task<GuestCrash> CaptureAsync(WatcherRun watcher, string guest) =>
        (await watcher.WaitForAsync(e => e is { Kind: WatchEventKind.CaptureCompleted } && e.Guest == guest,
            TimeSpan.FromMinutes(4), $"capture of {guest}")).Crash!;
}
