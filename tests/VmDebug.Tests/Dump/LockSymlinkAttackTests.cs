using System.Text.Json.Nodes;
using VmDebug.Engine.Files;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Dump;

/// <summary>
/// The dump lock's directory under attack, with two unprivileged users: an attacker (a throwaway account) plants
/// /tmp/vmdebug-nobody before the victim (nobody) dumps. The victim's files stay unchanged and the dump fails
/// naming the planted directory and its owner; without a plant the lock works and leaves no lock file behind.
/// </summary>
public sealed class LockSymlinkAttackTests : IDisposable
{
    private const string Victim = "nobody";
    private const string PlantedDirectory = "/tmp/vmdebug-nobody";
    private readonly string _attacker = $"vmdbgatk{Environment.ProcessId % 100000}";
    private readonly TempDirectory _scratch = new();

    private bool _attackerCreated;

    [Fact]
    public async Task PlantedDirectoriesAreRefusedNamingTheirOwnerAndTheVictimsFileIsUnchanged()
    {
        if (TmpfsMount.GetEuid() != 0)
        {
            Assert.Skip("switching between two unprivileged users needs root; CI runs as root");
        }
        TestEnvironment.RequireTool("setpriv", "util-linux");
        var useradd = TestEnvironment.RequireTool("useradd", "passwd");
        DeletePlanted();
        Assert.Equal(0, (await TestEnvironment.RunAsync(useradd, ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", _attacker])).ExitCode);
        _attackerCreated = true;
        File.SetUnixFileMode(_scratch.Path, (UnixFileMode)0x1ed); // 0755: both users reach their own subdirectories
        var victimDir = await OwnedDirectory("victim", Victim);
        var secret = Path.Combine(victimDir, "secret");
        await AsUser(Victim, "sh", "-c", $"umask 077; printf 'secret data' > {secret}");
        var socket = Path.Combine(victimDir, "qmp.sock");
        await AsUser(Victim, "touch", socket);
        var (device, inode) = FileIdentity.Of(socket);
        var lockName = $"dump-{device:x}-{inode:x}";

        // The attack as filed: a 0777 directory whose lock and PID files point at the victim's file.
        await AsUser(_attacker, "sh", "-c",
            $"mkdir -m 0777 {PlantedDirectory} && chmod 0777 {PlantedDirectory} && ln -s {secret} {PlantedDirectory}/{lockName}.lock && ln -s {secret} {PlantedDirectory}/{lockName}.pid");
        var error = await VictimDumpError(socket, Path.Combine(victimDir, "vmcore"));
        Assert.Equal("DumpLockDirectoryUnsafe", (string?)error["id"]);
        Assert.Contains(PlantedDirectory, (string?)error["message"]);
        Assert.Contains($"owned by {_attacker}", (string?)error["message"]);
        Assert.Contains("mode 0777", (string?)error["message"]);
        Assert.Equal(PlantedDirectory, (string?)error["target"]);
        Assert.Equal("secret data", File.ReadAllText(secret));

        // A 0700 directory planted the same way: the same clear refusal, not a bare "access denied".
        DeletePlanted();
        await AsUser(_attacker, "mkdir", "-m", "0700", PlantedDirectory);
        error = await VictimDumpError(socket, Path.Combine(victimDir, "vmcore"));
        Assert.Equal("DumpLockDirectoryUnsafe", (string?)error["id"]);
        Assert.Contains($"owned by {_attacker}", (string?)error["message"]);
        Assert.Equal("secret data", File.ReadAllText(secret));

        // Nothing planted: the lock is taken (the dump goes on to QMP, which this socket is not) and released without leftovers.
        DeletePlanted();
        error = await VictimDumpError(socket, Path.Combine(victimDir, "vmcore"));
        Assert.StartsWith("Qmp", (string?)error["id"]);
        var made = UnixFile.LStat(PlantedDirectory)!.Value;
        Assert.True(made.IsDirectory);
        Assert.Equal(0x1c0u, made.Permissions);
        Assert.Equal(UserId(Victim), made.Uid);
        Assert.Empty(Directory.GetFileSystemEntries(PlantedDirectory));
        Assert.Equal("secret data", File.ReadAllText(secret));
    }

    private async Task<JsonNode> VictimDumpError(string socket, string output)
    {
        var (exit, _, stderr) = await AsUserResult(Victim, VictimsProgram(), "dump", "--socket", socket, "--output", output, "--json");
        Assert.NotEqual(0, exit);
        return JsonNode.Parse(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1])!["error"]!;
    }

    /// <summary>
    /// The shipped executable, copied where the victim can run it: a clone in a 0700 directory (mktemp -d, as CI
    /// makes) is out of an unprivileged user's reach.
    /// </summary>
    private string VictimsProgram()
    {
        var copy = _scratch.File("vmdebug");
        if (!File.Exists(copy))
        {
            File.Copy(Support.Cli.ProgramPath, copy);
            File.SetUnixFileMode(copy, (UnixFileMode)0x1ed); // 0755
        }
        return copy;
    }

    private async Task<string> OwnedDirectory(string name, string user)
    {
        var path = _scratch.File(name);
        Directory.CreateDirectory(path);
        Assert.Equal(0, (await TestEnvironment.RunAsync("chown", [user, path])).ExitCode);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static async Task AsUser(string user, string program, params string[] arguments)
    {
        var (exit, _, stderr) = await AsUserResult(user, program, arguments);
        Assert.True(exit == 0, $"{program} as {user}: {stderr}");
    }

    /// <summary>Runs as <paramref name="user"/> with no supplementary groups and a clean environment (no XDG_RUNTIME_DIR).</summary>
    private static Task<(int ExitCode, string Stdout, string Stderr)> AsUserResult(string user, string program, params string[] arguments) =>
        TestEnvironment.RunAsync("setpriv", new[] { "--reuid", user, "--regid", GroupId(user).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--clear-groups", "--", "env", "-i", "PATH=/usr/bin:/bin", $"HOME=/tmp", $"USER={user}", "DOTNET_CLI_TELEMETRY_OPTOUT=1",
            "DOTNET_NOLOGO=1", program }.Concat(arguments), timeout: TimeSpan.FromMinutes(2));

    private static uint UserId(string user) => uint.Parse(IdField(user, "-u"), System.Globalization.CultureInfo.InvariantCulture);

    private static uint GroupId(string user) => uint.Parse(IdField(user, "-g"), System.Globalization.CultureInfo.InvariantCulture);

    private static string IdField(string user, string option) =>
        TestEnvironment.RunAsync("id", [option, user]).GetAwaiter().GetResult().Stdout.Trim();

    private static void DeletePlanted()
    {
        if (UnixFile.LStat(PlantedDirectory) is not null)
        {
            Directory.Delete(PlantedDirectory, recursive: true);
        }
    }

    public void Dispose()
    {
        DeletePlanted();
        if (_attackerCreated)
        {
            TestEnvironment.RunAsync("userdel", [_attacker]).GetAwaiter().GetResult();
        }
        _scratch.Dispose();
    }
}
