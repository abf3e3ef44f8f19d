using System.Globalization;
using VmDebug.Fuzz;

// VmDebug.Fuzz [--minutes N | --cases N] [--seed N] [--failures DIR] [--seeds DIR] [--kind KIND[,KIND...]]
// VmDebug.Fuzz --replay FILE|DIR... [--kind KIND]   (files named KIND-HASH.bin as saved, or any files as KIND)
// VmDebug.Fuzz --make-seeds DIR --vmcore ELF [--qemu-elf ELF] [--qemu-flat FLAT] [--core CORE] [--console LOG] [--kernel-dump ELF]
var options = Options.Parse(args);
if (options.MakeSeeds is { } seedOutput)
{
    await SeedMaker.MakeAsync(seedOutput, options);
    return 0;
}

var kinds = FuzzKinds.Load(options.Seeds);
var scratch = Directory.CreateDirectory(Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"vmdebug-fuzz-{Environment.ProcessId}")).FullName;
try
{
    var runner = new FuzzRunner(scratch, options.Failures);
    var clock = FuzzRunner.StartClock();
    if (options.Replay.Count > 0)
    {
        foreach (var file in options.Replay.SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p, options.Kind is null ? "*.bin" : "*") : [p]).Order(StringComparer.Ordinal))
        {
            var kindName = options.Kind ?? Path.GetFileNameWithoutExtension(file)[..Path.GetFileNameWithoutExtension(file).LastIndexOf('-')];
            var kind = kinds.Single(k => k.Name == kindName);
            var outcome = await runner.RunAsync(kind, File.ReadAllBytes(file));
            Console.WriteLine($"{Path.GetFileName(file)}: {outcome}");
        }
    }
    else
    {
        // --kind K[,K...] fuzzes only those kinds.
        if (options.Kind is { } only)
        {
            var names = only.Split(',');
            kinds = kinds.Where(k => names.Contains(k.Name)).ToList();
            if (kinds.Count != names.Length)
            {
                throw new ArgumentException($"--kind {only}: no such kind or no seeds for it");
            }
        }
        var random = new Random(options.RandomSeed);
        var mutator = new Mutator(random);
        var deadline = options.Duration;
        // By count, kinds take turns (a --seed then repeats the run); by time, the kind that has had the least time
        // goes next, so the guest-kernel kinds (a dump opened and walked per case) do not starve the cheap ones.
        var spent = new TimeSpan[kinds.Count];
        for (long i = 0; (options.Cases is not { } n || i < n) && clock.Elapsed < deadline; i++)
        {
            var index = options.Cases is null ? Array.IndexOf(spent, spent.Min()) : (int)(i % kinds.Count);
            var kind = kinds[index];
            var seed = kind.Seeds[random.Next(kind.Seeds.Count)];
            var started = clock.Elapsed;
            await runner.RunAsync(kind, kind.Mutate((byte[])seed.Clone(), mutator));
            spent[index] += clock.Elapsed - started;
        }
    }
    runner.Report(Console.Out, clock.Elapsed);
    return runner.Failures == 0 ? 0 : 1;
}
finally
{
    Directory.Delete(scratch, recursive: true);
}

/// <summary>Command-line options of the harness.</summary>
internal sealed record Options
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(1);
    public long? Cases { get; init; }
    public int RandomSeed { get; init; } = Environment.TickCount;
    public string? Failures { get; init; }
    public string Seeds { get; init; } = Path.Combine(AppContext.BaseDirectory, "seeds");
    public List<string> Replay { get; } = [];
    public string? MakeSeeds { get; init; }
    public string? Kind { get; init; }
    public Dictionary<string, string> Sources { get; } = [];

    public static Options Parse(string[] args)
    {
        var options = new Options();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--minutes" => options with { Duration = TimeSpan.FromMinutes(double.Parse(Next(), CultureInfo.InvariantCulture)), Cases = options.Cases },
                "--cases" => options with { Cases = long.Parse(Next(), CultureInfo.InvariantCulture), Duration = options.Duration == TimeSpan.FromMinutes(1) ? TimeSpan.MaxValue : options.Duration },
                "--seed" => options with { RandomSeed = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--failures" => options with { Failures = Next() },
                "--seeds" => options with { Seeds = Next() },
                "--make-seeds" => options with { MakeSeeds = Next() },
                "--replay" => options.AddReplay(Next()),
                "--kind" => options with { Kind = Next() },
                "--vmcore" or "--qemu-elf" or "--qemu-flat" or "--core" or "--console" or "--kernel-dump" => options.AddSource(args[i][2..], Next()),
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }
        return options;
    }

    private Options AddReplay(string path)
    {
        Replay.Add(path);
        return this;
    }

    private Options AddSource(string name, string path)
    {
        Sources[name] = path;
        return this;
    }
}
