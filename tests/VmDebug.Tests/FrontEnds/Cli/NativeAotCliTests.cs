using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using VmDebug.Cli;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.FrontEnds.Cli;

/// <summary>
/// The shipped vmdebug is a NativeAOT executable. These tests hold it to what the JIT-run CLI printed with reflection:
/// the same bytes on stdout and stderr, the same exit codes, the same JSON shapes, and native libraries that load (or
/// name their apt package) as before.
/// </summary>
public sealed class NativeAotCliTests(PanickedGuestFixture fixture) : IClassFixture<PanickedGuestFixture>
{
    private static readonly string TestData = Path.Combine(AppContext.BaseDirectory, "CrashConfiguration", "TestData");
    private static readonly string Hostile = Vmcore.HostileFileTests.HostileDirectory;

    /// <summary>The options the CLI serialized with before NativeAOT: reflection, camelCase, enums by name.</summary>
    private static readonly JsonSerializerOptions Reflection = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    };

    /// <summary>The same subcommand as the JIT-compiled vmdebug.dll built beside the tests (the reflection build).</summary>
    private static Task<(int ExitCode, string Stdout, string Stderr)> RunJitAsync(IEnumerable<string> arguments) =>
        TestEnvironment.RunAsync("dotnet", new[] { Path.Combine(AppContext.BaseDirectory, "vmdebug.dll") }.Concat(arguments),
            timeout: TimeSpan.FromMinutes(5));

    private static async Task AssertSameOutputAsync(params string[] arguments)
    {
        var aot = await Support.Cli.RunAsync(arguments);
        var jit = await RunJitAsync(arguments);
        var command = "vmdebug " + string.Join(' ', arguments);
        Assert.True(jit.ExitCode == aot.ExitCode, $"{command}: exit {aot.ExitCode} (AOT) vs {jit.ExitCode} (JIT)\n{aot.Stderr}\n{jit.Stderr}");
        Assert.Equal(jit.Stdout, aot.Stdout);
        Assert.Equal(jit.Stderr, aot.Stderr);
    }

    [Fact]
    public async Task TheExecutableIsNativeAndNeedsNoDotnet()
    {
        var program = Support.Cli.ProgramPath;
        var magic = new byte[4];
        using (var file = File.OpenRead(program))
        {
            file.ReadExactly(magic);
        }
        Assert.Equal("\u007fELF"u8.ToArray(), magic);
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(program)!, "vmdebug.dll")), "a JIT assembly beside the executable");

        // No dotnet on PATH, no DOTNET_ROOT: a runtime-dependent apphost would fail here.
        var (exit, stdout, stderr) = await TestEnvironment.RunAsync("env", ["-i", "PATH=/nonexistent", program, "--version"]);
        Assert.True(exit == 0, $"vmdebug --version without .NET: exit {exit}\n{stderr}");
        Assert.Matches(@"^\d+\.\d+\.\d+", stdout);
    }

    [Fact]
    public void SourceGeneratedJsonHasTheReflectionSerializersNamesOrderAndEnums()
    {
        var registered = typeof(CliJsonContext).GetCustomAttributesData()
            .Where(a => a.AttributeType == typeof(JsonSerializableAttribute))
            .Select(a => (Type)a.ConstructorArguments[0].Value!);
        var pending = new Queue<Type>(registered);
        var seen = new HashSet<Type>();
        while (pending.TryDequeue(out var type))
        {
            if (!seen.Add(type))
            {
                continue;
            }

            var generated = CliOutput.Json.GetTypeInfo(type);
            var reflected = Reflection.GetTypeInfo(type);
            Assert.True(reflected.Kind == generated.Kind, $"{type}: {generated.Kind} vs {reflected.Kind}");
            Assert.Equal(reflected.Properties.Select(p => (p.Name, p.PropertyType)), generated.Properties.Select(p => (p.Name, p.PropertyType)));
            foreach (var next in generated.Properties.Select(p => p.PropertyType).Concat(generated.Kind == JsonTypeInfoKind.None ? [] : ItemTypes(type)))
            {
                pending.Enqueue(Nullable.GetUnderlyingType(next) ?? next);
            }

            if (type.IsEnum)
            {
                var values = Enum.GetValues(type).Cast<object>().ToList();
                if (type.IsDefined(typeof(FlagsAttribute)) && values.Count > 2)
                {
                    values.Add(Enum.ToObject(type, Convert.ToInt64(values[1], System.Globalization.CultureInfo.InvariantCulture)
                        | Convert.ToInt64(values[2], System.Globalization.CultureInfo.InvariantCulture)));
                }
                foreach (var value in values)
                {
                    Assert.Equal(JsonSerializer.Serialize(value, type, Reflection), JsonSerializer.Serialize(value, generated));
                }
            }
        }

        // The walk reached the results' nested types and enums, not only the registered roots.
        Assert.Contains(typeof(DumpFormat), seen);
        Assert.Contains(typeof(GuestCallFrame), seen);
    }

    /// <summary>A collection's item types (a dictionary's key and value), which the walk checks too.</summary>
    private static IEnumerable<Type> ItemTypes(Type collection) =>
        collection.GetInterfaces().Append(collection)
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))
            .Select(i => i.GetGenericArguments()[0])
            .SelectMany(item => item.IsGenericType && item.GetGenericTypeDefinition() == typeof(KeyValuePair<,>) ? item.GetGenericArguments() : [item]);

    [Fact]
    public async Task FileCommandsPrintTheSameBytesAsTheReflectionBuild()
    {
        using var directory = new TempDirectory();
        var conf = directory.File("qemu.conf");
        File.Copy(Path.Combine(TestData, "debian12-qemu.conf"), conf);
        var domain = Path.Combine(TestData, "rich-domain.xml");
        var fifos = directory.File("trace");
        foreach (var json in new[] { false, true })
        {
            string[] Maybe(params string[] arguments) => json ? [.. arguments, "--json"] : arguments;
            await AssertSameOutputAsync(Maybe("panic-device", "show", "--xml", domain, "--config", conf));
            await AssertSameOutputAsync(Maybe("panic-device", "set", "--xml", domain, "--config", conf, "--on-crash", "coredump-restart", "--what-if"));
            await AssertSameOutputAsync(Maybe("coredump", "show", "--config", conf));
            await AssertSameOutputAsync(Maybe("coredump", "enable", "--config", conf, "--guest-memory", "--what-if"));
            await AssertSameOutputAsync(Maybe("trace", "setup", "--cpus", "2", "--directory", fifos, "--what-if"));
            await AssertSameOutputAsync(Maybe("dump"));
            await AssertSameOutputAsync(Maybe("convert", "--input", directory.File("missing.elf"), "--output", directory.File("out")));
            await AssertSameOutputAsync(Maybe("cores", "--path", directory.File("missing"), "--no-systemd"));
            foreach (var dump in Directory.GetFiles(Hostile).Order(StringComparer.Ordinal).Take(3))
            {
                await AssertSameOutputAsync(Maybe("log", "--input", dump));
                await AssertSameOutputAsync(Maybe("mem-usage", "--input", dump));
            }
        }
        await AssertSameOutputAsync("--help");
        await AssertSameOutputAsync("log", "--help");
    }

    [Fact]
    public async Task ARealDumpReadsTheSameAsWithTheReflectionBuild()
    {
        using var directory = new TempDirectory();
        var dump = directory.File("vmcore.kdump");
        var (exit, stdout, stderr) = await Support.Cli.RunAsync("dump", "--socket", fixture.Guest.QmpSocketPath, "--format", "kdump-zlib",
            "--output", dump, "--json");
        Assert.True(exit == 0, $"vmdebug dump: exit {exit}\n{stderr}");
        // The result's fields, in the reflection serializer's order (its timings differ from run to run).
        var written = JsonDocument.Parse(stdout).RootElement.EnumerateObject().Select(p => p.Name);
        Assert.Equal(Reflection.GetTypeInfo(typeof(GuestMemoryDump)).Properties.Select(p => p.Name), written);

        foreach (var json in new[] { false, true })
        {
            string[] Maybe(params string[] arguments) => json ? [.. arguments, "--json"] : arguments;
            await AssertSameOutputAsync(Maybe("log", "--input", dump));
            await AssertSameOutputAsync(Maybe("crash-info", "--input", dump));
            await AssertSameOutputAsync(Maybe("mem-usage", "--input", dump));
            await AssertSameOutputAsync(Maybe("pstore", "--input", dump));
        }
    }

    [Fact]
    public async Task NativeLibrariesLoadUnderAotAndAMissingOneNamesItsPackage()
    {
        using var directory = new TempDirectory();
        // Not a core, but a frame the library itself must reject: its message proves the call went through.
        var zstdCore = directory.File("core.zst");
        File.WriteAllBytes(zstdCore, [0x28, 0xb5, 0x2f, 0xfd, .. " garbage"u8]);
        var xzCore = directory.File("core.xz");
        File.WriteAllBytes(xzCore, [0xfd, .. "7zXZ\0not xz"u8]);

        var zstd = await Support.Cli.RunAsync("dump", "--core-file", zstdCore, "--output", directory.File("a.elf"), "--json");
        Assert.Contains("\"id\":\"CompressedCoreCorrupt\"", zstd.Stderr);
        Assert.Contains("Data corruption detected", zstd.Stderr); // ZSTD_getErrorName's words
        var xz = await Support.Cli.RunAsync("dump", "--core-file", xzCore, "--output", directory.File("b.elf"), "--json");
        Assert.Contains("\"id\":\"CompressedCoreCorrupt\"", xz.Stderr);
        var socket = directory.File("none.sock");
        var libvirt = await Support.Cli.RunAsync("nmi", "--domain", "nosuch", "--connect", $"qemu:///system?socket={socket}", "--json");
        Assert.Contains("\"id\":\"LibvirtConnectionFailed\"", libvirt.Stderr);
        Assert.Contains($"Failed to connect socket to '{socket}'", libvirt.Stderr); // libvirt's own message

        // libzstd made unloadable in a private mount namespace (nothing outside this process sees the bind mount).
        var unshare = TestEnvironment.RequireTool("unshare", "util-linux");
        if (Environment.UserName != "root")
        {
            Assert.Skip("a private mount namespace (unshare --mount) needs root");
        }
        var library = new[] { "/usr/lib/x86_64-linux-gnu/libzstd.so.1", "/lib/x86_64-linux-gnu/libzstd.so.1" }.First(File.Exists);
        var missing = await TestEnvironment.RunAsync(unshare, ["--mount", "sh", "-c", "mount --bind /dev/null \"$1\" && shift && exec \"$@\"", "sh",
            library, Support.Cli.ProgramPath, "dump", "--core-file", zstdCore, "--output", directory.File("c.elf"), "--json"]);
        Assert.Equal(9, missing.ExitCode);
        Assert.Contains("\"id\":\"CompressionLibraryMissing\"", missing.Stderr);
        Assert.Contains("install the 'libzstd1' package", missing.Stderr);
    }
}
