using System.Diagnostics;
using System.Formats.Tar;
using System.Globalization;
using Microsoft.Win32.SafeHandles;
using VmDebug.Engine.Files;
using VmDebug.Engine.Native;

namespace VmDebug.Engine.VirtioTrace;

/// <summary>
/// The host side of virtio-trace (tools/virtio/virtio-trace/README): "1\n" on agent-ctl-path.in starts the guest's
/// trace-agent, every trace-path-cpuN.out is drained at once, each by its own thread with one fixed buffer (a host
/// that stops reading stalls the guest), and "0\n" stops it. Each CPU's pages land in OutputPath/trace-cpuN.raw.
/// </summary>
public static class VirtioTraceReceiver
{
    private const int ReadBufferSize = 64 * 1024;
    private const int PollMs = 100;
    private const int MaxTarEntries = 20_000;

    public static async Task<VirtioTraceCapture> ReceiveAsync(VirtioTraceReceiveRequest request, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var directory = request.Directory;
        if (!VirtioTraceFifos.CheckDirectory(directory))
        {
            throw new VmDebugException("VirtioTraceDirectoryNotFound", ErrorKind.ObjectNotFound, $"The FIFO directory {directory} does not exist.", directory);
        }

        var cpuCount = 0;
        while (cpuCount < VirtioTraceChannelPlanner.MaxCpus && UnixFile.LStat(CpuOutput(directory, cpuCount)) is not null)
        {
            cpuCount++;
        }

        if (cpuCount == 0)
        {
            throw new VmDebugException("VirtioTraceChannelsNotFound", ErrorKind.ObjectNotFound,
                $"{directory} has no {VirtioTraceChannelPlanner.CpuName(0)}.out: set the channels up with Add-VirtioTraceChannel first.", directory);
        }

        var control = OpenFifo(Path.Combine(directory, VirtioTraceChannelPlanner.ControlName + ".in"), FifoNative.OWrOnly);
        var sources = new List<SafeFileHandle>();
        var outputs = new List<FileStream>();
        var created = new List<string>();
        var succeeded = false;
        try
        {
            for (var cpu = 0; cpu < cpuCount; cpu++)
            {
                sources.Add(OpenFifo(CpuOutput(directory, cpu), UnixFile.ORdOnly));
            }

            var metadataFifo = Path.Combine(directory, VirtioTraceChannelPlanner.MetadataName + ".out");
            var metadataSource = UnixFile.LStat(metadataFifo) is null ? null : OpenFifo(metadataFifo, UnixFile.ORdOnly);
            if (metadataSource is not null)
            {
                sources.Add(metadataSource);
            }

            CreateOutputDirectory(request.OutputPath);
            for (var cpu = 0; cpu < cpuCount; cpu++)
            {
                outputs.Add(CreateOutput(Path.Combine(request.OutputPath, RawName(cpu)), created));
            }

            var metadataTar = Path.Combine(request.OutputPath, "metadata.tar");
            if (metadataSource is not null)
            {
                outputs.Add(CreateOutput(metadataTar, created));
            }

            var counters = Enumerable.Range(0, cpuCount).Select(_ => new RingBufferPageCounter(request.PageSize)).ToArray();
            var state = new DrainState();
            var readers = new List<Task<ChannelEnd>>();
            for (var i = 0; i < sources.Count; i++)
            {
                var index = i;
                var isMetadata = index >= cpuCount;
                readers.Add(Task.Factory.StartNew(
                    () => Drain(sources[index], outputs[index], isMetadata ? null : counters[index], isMetadata ? request.MaxMetadataBytes : long.MaxValue, state, request),
                    CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default));
            }

            var clock = Stopwatch.StartNew();
            SendOrder(control, "1\n", directory);
            var activity = $"Receiving virtio-trace from {directory}";
            await WaitCollecting(request.Duration, clock, counters, activity, progress, readers, cancellationToken).ConfigureAwait(false);
            var collected = clock.Elapsed;
            SendOrder(control, "0\n", directory);
            state.StopRequested(cancellationToken.IsCancellationRequested ? TimeSpan.FromSeconds(1) : request.DrainQuiet,
                cancellationToken.IsCancellationRequested ? TimeSpan.FromSeconds(5) : request.DrainLimit);
            progress?.Report(new OperationProgress(activity, "Draining after the stop order", 100, counters.Sum(c => c.Bytes)));
            var ends = await Task.WhenAll(readers).ConfigureAwait(false);
            foreach (var output in outputs)
            {
                output.Flush(flushToDisk: true);
            }

            var warnings = new List<string>();
            for (var cpu = 0; cpu < cpuCount; cpu++)
            {
                if (ends[cpu] == ChannelEnd.WriterGone)
                {
                    warnings.Add($"{CpuOutput(directory, cpu)}: QEMU closed the channel (the guest stopped or QEMU exited) before the stop order.");
                }

                if (counters[cpu].TrailingBytes > 0)
                {
                    warnings.Add($"CPU {cpu}: {counters[cpu].TrailingBytes} bytes after the last whole page were kept in the file but not counted.");
                }

                if (counters[cpu].MalformedPages > 0)
                {
                    warnings.Add($"CPU {cpu}: {counters[cpu].MalformedPages} pages have lengths that do not fit a page: counted as far as they were sound.");
                }
            }
            if (counters.All(c => c.Bytes == 0))
            {
                warnings.Add("No trace data arrived: is trace-agent running in the guest, with events enabled? (A page is sent only once it is full.)");
            }

            string? metadataPath = null;
            if (metadataSource is not null)
            {
                var tarLength = outputs[^1].Length;
                outputs[^1].Dispose();
                if (ends[^1] == ChannelEnd.LimitReached)
                {
                    warnings.Add($"The guest's metadata exceeded {request.MaxMetadataBytes} bytes and was cut off.");
                }

                if (tarLength == 0)
                {
                    File.Delete(metadataTar);
                    created.Remove(metadataTar);
                    warnings.Add("No metadata arrived on trace-metadata: the guest sends it once, so take it from an earlier receive or have the guest send it again.");
                }
                else
                {
                    metadataPath = ExtractMetadata(metadataTar, Path.Combine(request.OutputPath, "tracing"), request.MaxMetadataBytes, warnings, created);
                }
            }

            var cpus = Enumerable.Range(0, cpuCount).Select(cpu => new VirtioTraceCpuCapture
            {
                Cpu = cpu,
                Path = Path.Combine(request.OutputPath, RawName(cpu)),
                Bytes = counters[cpu].Bytes,
                Pages = counters[cpu].Pages,
                Events = counters[cpu].Events,
                PagesWithLostEvents = counters[cpu].PagesWithLostEvents,
                LostEvents = counters[cpu].LostEvents,
                MalformedPages = counters[cpu].MalformedPages,
                TrailingBytes = counters[cpu].TrailingBytes,
            }).ToList();
            progress?.Report(new OperationProgress(activity, "Done", 100, cpus.Sum(c => c.Bytes), Completed: true));
            succeeded = true;
            return new VirtioTraceCapture
            {
                Directory = directory,
                OutputPath = request.OutputPath,
                Duration = collected,
                Cpus = cpus,
                MetadataPath = metadataPath,
                RestoreCommands = metadataPath is null ? [] : RestoreCommands(metadataPath, request.OutputPath, cpus),
                Warnings = warnings,
            };
        }
        finally
        {
            control.Dispose();
            foreach (var source in sources)
            {
                source.Dispose();
            }

            foreach (var output in outputs)
            {
                output.Dispose();
            }

            if (!succeeded)
            {
                foreach (var path in created.AsEnumerable().Reverse())
                {
                    if (Directory.Exists(path))
                    {
                        Directory.Delete(path, recursive: true);
                    }
                    else
                    {
                        File.Delete(path);
                    }
                }
            }
        }
    }

    public static string RawName(int cpu) => $"trace-cpu{cpu.ToString(CultureInfo.InvariantCulture)}.raw";

    private static string CpuOutput(string directory, int cpu) => Path.Combine(directory, VirtioTraceChannelPlanner.CpuName(cpu) + ".out");

    private static IReadOnlyList<string> RestoreCommands(string metadata, string output, IReadOnlyList<VirtioTraceCpuCapture> cpus)
    {
        var head = Path.Combine(output, "head.dat");
        return
        [
            $"trace-cmd restore -c -t {Quote(metadata)} -k {Quote(Path.Combine(metadata, "kallsyms"))} -o {Quote(head)}",
            $"trace-cmd restore -i {Quote(head)} -o {Quote(Path.Combine(output, "trace.dat"))} {string.Join(' ', cpus.Select(c => Quote(c.Path)))}",
        ];
    }

    private static string Quote(string path) => "'" + path.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>Opens a FIFO end without following links and without blocking; ENXIO on a write end means no QEMU holds it.</summary>
    private static SafeFileHandle OpenFifo(string path, int access)
    {
        var handle = UnixFile.Open(path, access | UnixFile.ONonBlock | UnixFile.ONoFollow | UnixFile.ONoCtty, 0, out var errno);
        if (errno == FifoNative.ENxio)
        {
            throw new VmDebugException("VirtioTraceGuestNotConnected", ErrorKind.ConnectionError,
                $"Nothing holds {path} open: start the guest (QEMU opens the FIFOs of its pipe chardevs when it starts).", path);
        }

        if (errno == UnixFile.ENoEnt)
        {
            throw new VmDebugException("VirtioTraceChannelsNotFound", ErrorKind.ObjectNotFound, $"{path} does not exist: set the channels up with Add-VirtioTraceChannel first.", path);
        }

        if (errno != 0)
        {
            throw new VmDebugException("VirtioTraceFifoOpenFailed", ErrorKind.ReadError, $"Cannot open {path}: {UnixFile.ErrorText(errno)}.", path);
        }

        if (UnixFile.FStat(handle).Type != UnixFileStatus.Fifo)
        {
            handle.Dispose();
            throw new VmDebugException("VirtioTraceNotAFifo", ErrorKind.InvalidData, $"{path} is not a FIFO.", path);
        }
        return handle;
    }

    private static void CreateOutputDirectory(string path)
    {
        var status = UnixFile.LStat(path);
        if (status is null)
        {
            var error = UnixFile.MakeDirectory(path, 0x1c0 /* 0700 */);
            if (error != 0 && error != UnixFile.EExist)
            {
                throw new VmDebugException("VirtioTraceOutputFailed", ErrorKind.WriteError, $"Cannot create the output directory {path}: {UnixFile.ErrorText(error)}.", path);
            }

            status = UnixFile.LStat(path);
        }
        if (status is not { IsDirectory: true })
        {
            throw new VmDebugException("VirtioTraceOutputInvalid", ErrorKind.InvalidArgument, $"The output path {path} is not a directory (links are not followed).", path);
        }
    }

    private static FileStream CreateOutput(string path, List<string> created)
    {
        var handle = UnixFile.Open(path, FifoNative.OWrOnly | UnixFile.OCreat | UnixFile.OExcl | UnixFile.ONoFollow, 0x180 /* 0600 */, out var errno);
        if (errno == UnixFile.EExist)
        {
            throw new VmDebugException("VirtioTraceOutputExists", ErrorKind.ResourceExists, $"{path} already exists: choose another output directory (nothing is replaced).", path);
        }

        if (errno != 0)
        {
            throw new VmDebugException("VirtioTraceOutputFailed", ErrorKind.WriteError, $"Cannot create {path}: {UnixFile.ErrorText(errno)}.", path);
        }

        created.Add(path);
        return new FileStream(handle, FileAccess.Write, ReadBufferSize);
    }

    private static void SendOrder(SafeFileHandle control, string order, string directory)
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(order);
        // The FIFO's buffer is empty unless QEMU stopped reading it: a bounded wait, never a hang.
        if (!FifoNative.WaitWritable(control, 5000) || FifoNative.Write(control, bytes) != bytes.Length)
        {
            throw new VmDebugException("VirtioTraceControlFailed", ErrorKind.ConnectionError,
                $"Cannot send \"{order.Trim()}\" to {Path.Combine(directory, VirtioTraceChannelPlanner.ControlName)}.in: QEMU does not read it.", directory);
        }
    }

    private static async Task WaitCollecting(TimeSpan? duration, Stopwatch clock, RingBufferPageCounter[] counters, string activity,
        IProgress<OperationProgress>? progress, List<Task<ChannelEnd>> readers, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested && (duration is null || clock.Elapsed < duration))
        {
            // Every channel closed by QEMU: nothing more can come.
            if (readers.All(r => r.IsCompleted))
            {
                return;
            }

            var left = duration is { } d ? d - clock.Elapsed : TimeSpan.FromMilliseconds(500);
            // The duration may have run out since the loop's check: a delay of -1 ms would wait forever (seen in CI).
            if (left <= TimeSpan.Zero)
            {
                return;
            }
            try
            {
                await Task.Delay(left < TimeSpan.FromMilliseconds(500) ? left : TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return; // Ctrl+C is how an open-ended receive ends: stop the agent and keep what came.
            }
            var bytes = counters.Sum(c => c.BytesSnapshot);
            var percent = duration is { } total ? (int)Math.Min(99, clock.Elapsed.TotalMilliseconds * 100 / Math.Max(1, total.TotalMilliseconds)) : -1;
            progress?.Report(new OperationProgress(activity, $"{counters.Length} CPUs, {bytes} bytes", percent, bytes,
                BytesPerSecond: bytes / Math.Max(0.001, clock.Elapsed.TotalSeconds)));
        }
    }

    private enum ChannelEnd { Stopped, WriterGone, LimitReached }

    /// <summary>When the readers should stop: set once, after the stop order.</summary>
    private sealed class DrainState
    {
        private long _quietTicks = long.MaxValue, _deadline = long.MaxValue;

        public void StopRequested(TimeSpan quiet, TimeSpan limit)
        {
            Volatile.Write(ref _deadline, Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency));
            Volatile.Write(ref _quietTicks, (long)(quiet.TotalSeconds * Stopwatch.Frequency));
        }

        public bool Done(long lastData)
        {
            long now = Stopwatch.GetTimestamp(), quiet = Volatile.Read(ref _quietTicks);
            return quiet != long.MaxValue && (now - lastData >= quiet || now >= Volatile.Read(ref _deadline));
        }
    }

    private static ChannelEnd Drain(SafeFileHandle source, FileStream output, RingBufferPageCounter? counter, long limit, DrainState state, VirtioTraceReceiveRequest request)
    {
        var buffer = new byte[ReadBufferSize];
        long total = 0, lastData = Stopwatch.GetTimestamp();
        while (!state.Done(lastData))
        {
            FifoNative.WaitReadable(source, PollMs);
            var n = FifoNative.Read(source, buffer);
            if (n == -UnixFile.EWouldBlock || n == -FifoNative.EIntr)
            {
                continue;
            }

            if (n < 0)
            {
                throw new VmDebugException("VirtioTraceReadFailed", ErrorKind.ReadError, $"Reading a virtio-trace channel failed: {UnixFile.ErrorText(-n)}.", request.Directory);
            }

            if (n == 0)
            {
                return ChannelEnd.WriterGone;
            }

            lastData = Stopwatch.GetTimestamp();
            var keep = (int)Math.Min(n, limit - total);
            output.Write(buffer, 0, keep);
            total += keep;
            if (counter is not null)
            {
                counter.Add(buffer.AsSpan(0, keep));
                counter.BytesSnapshot = counter.Bytes;
            }
            if (total >= limit)
            {
                return ChannelEnd.LimitReached;
            }
        }
        return ChannelEnd.Stopped;
    }

    /// <summary>
    /// Unpacks the guest's metadata archive for trace-cmd restore -t/-k: only plain files and directories under
    /// <paramref name="destination"/>, names without "..", within the size and entry bounds.
    /// </summary>
    internal static string? ExtractMetadata(string tarPath, string destination, long maxBytes, List<string> warnings, List<string> created)
    {
        CreateOutputDirectory(destination);
        created.Add(destination);
        var root = Path.GetFullPath(destination) + Path.DirectorySeparatorChar;
        long bytes = 0;
        var entries = 0;
        try
        {
            using var stream = File.OpenRead(tarPath);
            using var reader = new TarReader(stream);
            while (reader.GetNextEntry() is { } entry)
            {
                if (++entries > MaxTarEntries)
                {
                    throw new InvalidDataException($"more than {MaxTarEntries} entries");
                }

                var name = entry.Name;
                while (name.StartsWith("./", StringComparison.Ordinal))
                {
                    name = name[2..];
                }

                if (name.Length == 0 || name == ".")
                {
                    continue;
                }

                var target = Path.GetFullPath(Path.Combine(destination, name));
                if (name.StartsWith('/') || !target.StartsWith(root, StringComparison.Ordinal) || name.Split('/').Contains(".."))
                {
                    throw new InvalidDataException($"the entry '{Escape(entry.Name)}' points outside the archive");
                }

                if (entry.EntryType == TarEntryType.Directory) { Directory.CreateDirectory(target); continue; }
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                {
                    continue;
                }

                bytes += entry.Length;
                if (bytes > maxBytes)
                {
                    throw new InvalidDataException($"its files exceed {maxBytes} bytes");
                }

                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                using var file = new FileStream(target, FileMode.CreateNew, FileAccess.Write);
                entry.DataStream?.CopyTo(file);
            }
            return destination;
        }
        // UnauthorizedAccessException: a file entry named like a directory ("events/"), which the OS refuses to create;
        // NotSupportedException: an entry type TarReader does not read (GNU sparse files); OverflowException: a header
        // number TarReader cannot hold (found by the fuzz smoke).
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException or IOException or UnauthorizedAccessException
            or NotSupportedException or OverflowException)
        {
            warnings.Add($"The guest's metadata in {tarPath} could not be unpacked ({Escape(e.Message)}): trace-cmd restore needs it complete.");
            return null;
        }
    }

    private static string Escape(string text) => string.Concat(text.Select(c => char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString()));
}
