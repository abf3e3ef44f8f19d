using System.Text.Json.Serialization;
using VmDebug.Engine.Demo;

namespace VmDebug.Cli;

/// <summary>
/// Compile-time JSON metadata for every result the CLI prints with --json, so the NativeAOT binary serializes without
/// reflection. The options are the ones the reflection serializer had: camelCase names, enums by name.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(DemoReport))]
[JsonSerializable(typeof(QemuProcessCore))]
[JsonSerializable(typeof(QemuCoreDumpSetting))]
[JsonSerializable(typeof(GuestPanicConfiguration))]
[JsonSerializable(typeof(GuestMemoryDump))]
[JsonSerializable(typeof(GuestCrashInfo))]
[JsonSerializable(typeof(GuestMemoryUsage))]
[JsonSerializable(typeof(GuestNmi))]
[JsonSerializable(typeof(GuestPanicEvent))]
[JsonSerializable(typeof(PstoreRecord))]
[JsonSerializable(typeof(VirtioTraceSetup))]
[JsonSerializable(typeof(VirtioTraceCapture))]
[JsonSerializable(typeof(GuestCrash))]
[JsonSerializable(typeof(WatchEvent))]
public sealed partial class CliJsonContext : JsonSerializerContext;
