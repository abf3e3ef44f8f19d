using System.Diagnostics;
using System.Runtime.InteropServices;
using static VmDebug.Engine.Native.LibcProcess;

namespace VmDebug.Engine.Guest;

/// <summary>
/// A running test guest under TCG in a working directory of its own, so several can run side by side.
/// QEMU is always ended by its PID on dispose; the directory (console log, sockets, cores) is removed unless kept.
/// </summary>
public sealed class QemuGuest : IAsyncDisposable
{
    private readonly Process _process;

    private QemuGuest(Process process, string workDirectory, GuestLaunchOptions options, IReadOnlyList<string> arguments)
    {
        _process = process;
        WorkDirectory = workDirectory;
        Options = options;
        Arguments = arguments;
    }

    public string WorkDirectory { get; }
    public GuestLaunchOptions Options { get; }
    public IReadOnlyList<string> Arguments { get; }
    public int Pid => _process.Id;
    public string QmpSocketPath => Path.Combine(WorkDirectory, "qmp.sock");
    public string KmsgSocketPath => Path.Combine(WorkDirectory, "kmsg.sock");
    public string ConsoleLogPath => Path.Combine(WorkDirectory, "console.log");
    public string StderrPath => Path.Combine(WorkDirectory, "qemu.stderr");
    public bool HasExited => _process.HasExited;

    /// <summary>Keep the working directory after dispose (for a process core left in it, say).</summary>
    public bool KeepWorkDirectory { get; set; }

    public const string QemuBinary = "qemu-system-x86_64";

    public static IReadOnlyList<string> BuildArguments(GuestImage image, GuestLaunchOptions options, string workDirectory)
    {
        var machine = $"{options.MachineType},accel=tcg";
        if (options.ProcessCoreDumps)
        {
            machine += options.DumpGuestCore ? ",dump-guest-core=on" : ",dump-guest-core=off";
        }

        var args = new List<string>();
        if (!options.DefaultDevices)
        {
            args.Add("-nodefaults");
        }
        args.AddRange(
        [
            "-display", "none", "-nic", "none",
            "-m", $"{options.MemoryMiB}M",
            "-kernel", image.Kernel, "-initrd", image.Initrd,
            "-serial", $"file:{Path.Combine(workDirectory, "console.log")}",
            // Default panic action is poweroff: QEMU would exit before anyone could dump it.
            "-action", $"panic={options.PanicAction}",
            "-device", "pvpanic-pci",
            "-qmp", $"unix:{Path.Combine(workDirectory, "qmp.sock")},server=on,wait=off",
        ]);
        if (!options.AllowReboot)
        {
            args.Add("-no-reboot");
        }
        if (options.VmcoreInfoDevice)
        {
            args.AddRange(["-device", "vmcoreinfo"]);
        }
        if (options.Cpus > 1)
        {
            args.AddRange(["-smp", options.Cpus.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }
        if (options.CpuModel is { } cpu)
        {
            args.AddRange(["-cpu", cpu]);
        }
        if (options.MemoryBackend == GuestMemoryBackend.Memfd)
        {
            args.AddRange(["-object", $"memory-backend-memfd,id=ram0,size={options.MemoryMiB}M"]);
            machine += ",memory-backend=ram0";
        }
        else if (options.MemoryBackend == GuestMemoryBackend.File)
        {
            args.AddRange(["-object", $"memory-backend-file,id=ram0,size={options.MemoryMiB}M,mem-path={Path.Combine(workDirectory, "guest-ram")},share=off"]);
            machine += ",memory-backend=ram0";
        }
        else if (options.MemoryBackend == GuestMemoryBackend.HugeTlbFs)
        {
            args.AddRange(["-mem-path", options.MemoryPath ?? throw new ArgumentException("HugeTlbFs RAM needs a MemoryPath on hugetlbfs.", nameof(options))]);
        }

        args.AddRange(["-machine", machine]);
        args.AddRange(options.QemuArguments);

        var cmdline = new List<string> { "console=ttyS0", "panic=0", "quiet", "loglevel=6" };
        cmdline.AddRange(options.KernelArguments);
        if (options.Markers > 0)
        {
            cmdline.Add($"vmdebug.markers={options.Markers}");
            cmdline.Add($"vmdebug.marker_level={options.MarkerLevel}");
        }

        if (options.PanicAfterSeconds is { } after)
        {
            cmdline.Add($"vmdebug.panic_after={after}");
        }

        if (options.KmsgPort)
        {
            args.AddRange([
                "-device", "virtio-serial-pci",
                "-chardev", $"socket,id=kmsg,path={Path.Combine(workDirectory, "kmsg.sock")},server=on,wait=off",
                "-device", $"virtserialport,chardev=kmsg,name={GuestLaunchOptions.KmsgPortName}",
            ]);
            cmdline.Add($"vmdebug.kmsg_port={GuestLaunchOptions.KmsgPortName}");
        }

        args.AddRange(["-append", string.Join(' ', cmdline)]);
        return args;
    }

    /// <summary>Starts QEMU and returns once its QMP socket accepts connections.</summary>
    public static async Task<QemuGuest> StartAsync(GuestImage image, GuestLaunchOptions options, string? workDirectory = null,
        CancellationToken cancellationToken = default)
    {
        workDirectory ??= Directory.CreateTempSubdirectory("vmdebug-guest-").FullName;
        var arguments = BuildArguments(image, options, workDirectory);

        // A shell wrapper lifts RLIMIT_CORE and redirects stderr, then execs: the PID we hold is QEMU's own.
        var start = new ProcessStartInfo("/bin/sh")
        {
            WorkingDirectory = workDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add((options.ProcessCoreDumps ? "ulimit -c unlimited; " : "") + $"exec {QemuBinary} \"$@\" 2>qemu.stderr </dev/null");
        start.ArgumentList.Add("qemu");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("Process.Start returned null");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new VmDebugException("QemuNotStarted", ErrorKind.NotInstalled,
                $"Could not start {QemuBinary}: {e.Message}. Install the qemu-system-x86 package.", QemuBinary, e);
        }

        var guest = new QemuGuest(process, workDirectory, options, arguments);
        try
        {
            await guest.WaitForQmpSocketAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await guest.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return guest;
    }

    private async Task WaitForQmpSocketAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process.HasExited)
            {
                throw new VmDebugException("QemuExited", ErrorKind.InvalidOperation,
                    $"QEMU exited with code {_process.ExitCode} before opening its QMP socket: {ReadStderrTail()}", QmpSocketPath);
            }

            if (Qmp.QmpSocketListening.IsListening(QmpSocketPath))
            {
                return;
            }

            if (deadline.Elapsed > timeout)
            {
                throw new VmDebugException("QemuStartTimeout", ErrorKind.OperationTimeout,
                    $"QEMU did not open its QMP socket '{QmpSocketPath}' within {timeout.TotalSeconds:0} s.", QmpSocketPath);
            }

            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    public string ReadStderrTail()
    {
        try
        {
            var text = File.ReadAllText(StderrPath).Trim();
            return text.Length > 2000 ? text[^2000..] : text;
        }
        catch (IOException)
        {
            return "";
        }
    }

    public string ReadConsole() => File.Exists(ConsoleLogPath) ? File.ReadAllText(ConsoleLogPath) : "";

    /// <summary>Sends a signal to QEMU, e.g. SIGABRT (6) for a process core.</summary>
    public void Signal(int signal)
    {
        if (kill(_process.Id, signal) != 0)
        {
            throw new VmDebugException("QemuSignalFailed", ErrorKind.InvalidOperation,
                $"Could not send signal {signal} to QEMU (PID {_process.Id}): errno {Marshal.GetLastPInvokeError()}.", _process.Id);
        }
    }

    public Task WaitForExitAsync(CancellationToken cancellationToken = default) => _process.WaitForExitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }

        _process.Dispose();
        if (!KeepWorkDirectory)
        {
            try
            {
                Directory.Delete(WorkDirectory, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a leftover temp directory must not fail the caller.
            }
        }
    }
}
