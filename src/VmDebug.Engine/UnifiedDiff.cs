using System.Text;

namespace VmDebug.Engine;

/// <summary>Line-based unified diff (the text -WhatIf shows), computed with Myers' O(ND) algorithm.</summary>
public static class UnifiedDiff
{
    private const int Context = 3;

    /// <summary>Empty string when the texts are equal.</summary>
    public static string Create(string oldText, string newText, string oldLabel, string newLabel)
    {
        if (oldText == newText)
        {
            return "";
        }

        var a = SplitLines(oldText);
        var b = SplitLines(newText);
        var ops = Diff(a, b);
        var sb = new StringBuilder();
        sb.Append("--- ").Append(oldLabel).Append('\n');
        sb.Append("+++ ").Append(newLabel).Append('\n');

        var i = 0;
        while (i < ops.Count)
        {
            if (ops[i].Kind == ' ') { i++; continue; }
            var start = Math.Max(0, i - Context);
            var end = i;
            // Extend the hunk while the next change is within 2*Context equal lines.
            while (true)
            {
                while (end < ops.Count && ops[end].Kind != ' ')
                {
                    end++;
                }

                var equal = 0;
                while (end + equal < ops.Count && ops[end + equal].Kind == ' ')
                {
                    equal++;
                }

                if (end + equal < ops.Count && equal <= 2 * Context) { end += equal; continue; }
                end = Math.Min(ops.Count, end + Context);
                break;
            }
            int oldStart = ops[start].OldIndex, newStart = ops[start].NewIndex;
            var oldCount = ops.Skip(start).Take(end - start).Count(o => o.Kind != '+');
            var newCount = ops.Skip(start).Take(end - start).Count(o => o.Kind != '-');
            sb.Append("@@ -").Append(Range(oldStart, oldCount)).Append(" +").Append(Range(newStart, newCount)).Append(" @@\n");
            for (var k = start; k < end; k++)
            {
                var line = ops[k].Kind == '+' ? b[ops[k].NewIndex] : a[ops[k].OldIndex];
                sb.Append(ops[k].Kind).Append(line.TrimEnd('\n', '\r')).Append('\n');
                if (!line.EndsWith('\n'))
                {
                    sb.Append("\\ No newline at end of file\n");
                }
            }
            i = end;
        }
        return sb.ToString();
    }

    private static string Range(int start, int count) => count == 0 ? $"{start},0" : count == 1 ? $"{start + 1}" : $"{start + 1},{count}";

    private static List<string> SplitLines(string text)
    {
        var lines = new List<string>();
        var pos = 0;
        while (pos < text.Length)
        {
            var eol = text.IndexOf('\n', pos);
            var next = eol < 0 ? text.Length : eol + 1;
            lines.Add(text[pos..next]);
            pos = next;
        }
        return lines;
    }

    private readonly record struct Op(char Kind, int OldIndex, int NewIndex);

    /// <summary>
    /// Edit script; each op carries the positions in both files where it applies
    /// (for '+' OldIndex is the old position it precedes, for '-' NewIndex likewise).
    /// </summary>
    private static List<Op> Diff(List<string> a, List<string> b)
    {
        int n = a.Count, m = b.Count, max = n + m;
        var v = new int[2 * max + 2];
        var trace = new List<int[]>();
        var offset = max;
        for (var d = 0; d <= max; d++)
        {
            trace.Add((int[])v.Clone());
            for (var k = -d; k <= d; k += 2)
            {
                var x = k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) ? v[offset + k + 1] : v[offset + k - 1] + 1;
                var y = x - k;
                while (x < n && y < m && a[x] == b[y]) { x++; y++; }
                v[offset + k] = x;
                if (x >= n && y >= m)
                {
                    return Backtrack(trace, a, b, offset, d);
                }
            }
        }
        throw new InvalidOperationException("Myers diff did not converge.");
    }

    private static List<Op> Backtrack(List<int[]> trace, List<string> a, List<string> b, int offset, int dFinal)
    {
        var ops = new List<Op>();
        int x = a.Count, y = b.Count;
        for (var d = dFinal; d > 0; d--)
        {
            var v = trace[d];
            var k = x - y;
            var prevK = k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) ? k + 1 : k - 1;
            int prevX = v[offset + prevK], prevY = prevX - prevK;
            while (x > prevX && y > prevY) { x--; y--; ops.Add(new Op(' ', x, y)); }
            if (x == prevX) { y--; ops.Add(new Op('+', x, y)); }
            else { x--; ops.Add(new Op('-', x, y)); }
        }
        while (x > 0 && y > 0) { x--; y--; ops.Add(new Op(' ', x, y)); }
        ops.Reverse();
        return ops;
    }
}
