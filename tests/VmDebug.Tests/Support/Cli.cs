namespace VmDebug.Tests.Support;

/// <summary>Runs the built vmdebug CLI the way an admin or the acceptance checks do.</summary>
public static class Cli
{
    public static string ProgramPath => Path.Combine(AppContext.BaseDirectory, "vmdebug.dll");

    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] arguments) =>
        TestEnvironment.RunAsync("dotnet", new[] { ProgramPath }.Concat(arguments), timeout: TimeSpan.FromMinutes(5));
}
