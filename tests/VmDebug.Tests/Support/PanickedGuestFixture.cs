using VmDebug.Engine.Guest;
using VmDebug.Engine.Panic;

namespace VmDebug.Tests.Support;

/// <summary>One real guest that wrote marker lines and panicked, kept paused for the tests of a class to dump.</summary>
public sealed class PanickedGuestFixture : IAsyncLifetime
{
    public const int Markers = 5;

    private QemuGuest? _guest;

    /// <summary>The panicked guest; without QEMU installed the test skips here, naming the package.</summary>
    public QemuGuest Guest
    {
        get
        {
            TestEnvironment.RequireTool(QemuGuest.QemuBinary, "qemu-system-x86");
            return _guest ?? throw new InvalidOperationException("fixture not started");
        }
    }
    public GuestImage Image { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        if (TestEnvironment.FindTool(QemuGuest.QemuBinary) is null)
        {
            return; // Each test then skips through TestEnvironment.GuestWithDebugSymbols.
        }

        Image = TestEnvironment.GuestWithDebugSymbols;
        _guest = await QemuGuest.StartAsync(Image, new GuestLaunchOptions { Markers = Markers, PanicAfterSeconds = 0 });
        await GuestPanicWatcher.WaitAsync(_guest.QmpSocketPath, TimeSpan.FromSeconds(120), CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        if (_guest is not null)
        {
            await _guest.DisposeAsync();
        }
    }
}
