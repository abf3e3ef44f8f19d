using System.Text;
using VmDebug.Engine.Fleet;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Fleet;

/// <summary>The socket glob's segment matching against bash's own (<c>[[ name == pattern ]]</c>, C locale).</summary>
public sealed class SocketGlobTests
{
    /// <summary>
    /// Hand-picked edge cases (a ] first in a set, an unclosed [, ranges, negation, stars that must backtrack) and
    /// random patterns and names over the characters that matter, each pair answered by bash and by VmDebug.
    /// </summary>
    [Fact]
    public async Task SegmentsMatchAsBashMatchesThem()
    {
        string[] patterns =
        [
            "*", "?", "*.qmp", "vm-*.sock", "vm?", "[ab]*", "[!ab]*", "[^ab]*", "[a-c]x", "[]a]", "[!]a]", "[a", "a[", "[", "[!",
            "[]", "[]]", "[a-]", "[-a]", "*a*b*", "a*a*a*b", "**", "*?", ".*", "x[*]y", "x[?]y", "[z-a]", "*[!.]",
        ];
        string[] names = ["", "a", "b", "x", "ab", "aab", "ba", "vm1", "vm-1.sock", "guest.qmp", ".hidden", "]", "[", "[a", "a[", "-", "x*y", "x?y", "aaab", "abab"];
        var random = new Random(20261202);
        const string Alphabet = "ab.-]![*?^";
        var pairs = new List<(string Pattern, string Name)>();
        foreach (var pattern in patterns)
        {
            pairs.AddRange(names.Select(name => (pattern, name)));
        }
        for (var i = 0; i < 3000; i++)
        {
            pairs.Add((Draw(random, Alphabet, 1, 7), Draw(random, Alphabet, 0, 6)));
        }

        var answers = await BashAnswersAsync(pairs);
        Assert.Contains(true, answers);
        Assert.Contains(false, answers);
        var wrong = pairs.Zip(answers).Where(p => SocketGlob.Matches(p.First.Pattern, p.First.Name) != p.Second)
            .Select(p => $"'{p.First.Name}' against '{p.First.Pattern}': bash says {p.Second}").ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {pairs.Count} differ from bash:\n" + string.Join('\n', wrong.Take(20)));
    }

    private static string Draw(Random random, string alphabet, int min, int max)
    {
        var chars = new char[random.Next(min, max + 1)];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = alphabet[random.Next(alphabet.Length)];
        }
        return new string(chars);
    }

    // One bash for every pair: NUL-separated pattern and name on stdin, a 1 or 0 per pair on stdout.
    private static async Task<bool[]> BashAnswersAsync(List<(string Pattern, string Name)> pairs)
    {
        using var directory = new TempDirectory();
        var input = directory.File("pairs");
        var text = new StringBuilder();
        foreach (var (pattern, name) in pairs)
        {
            text.Append(pattern).Append('\0').Append(name).Append('\0');
        }
        await File.WriteAllTextAsync(input, text.ToString());
        var script = "export LC_ALL=C; while IFS= read -r -d '' p && IFS= read -r -d '' n; do [[ $n == $p ]] && echo 1 || echo 0; done < \"$1\"";
        var (exit, stdout, stderr) = await TestEnvironment.RunAsync("bash", ["-c", script, "bash", input]);
        Assert.True(exit == 0, stderr);
        var answers = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line == "1").ToArray();
        Assert.Equal(pairs.Count, answers.Length);
        return answers;
    }
}
