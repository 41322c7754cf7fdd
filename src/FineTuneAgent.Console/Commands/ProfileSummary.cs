using System.Text.Json;

namespace FineTuneAgent.Console.Commands;

/// <summary>
/// The ops of a libtorch profiler trace (Chrome trace JSON, see <c>torch.autograd.profile</c>) by self time: an
/// op's duration minus the ops it called, found by nesting the events of each thread by their start and end.
/// </summary>
internal static class ProfileSummary
{
    internal sealed record Op(string Name, double SelfMs, double TotalMs, int Calls);

    public static IReadOnlyList<Op> Read(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var events = doc.RootElement.EnumerateArray()
            .Where(e => e.TryGetProperty("ph", out var ph) && ph.GetString() == "X")
            .Select(e => (Name: e.GetProperty("name").GetString() ?? "?", Start: e.GetProperty("ts").GetDouble(), Duration: e.GetProperty("dur").GetDouble(),
                Thread: e.TryGetProperty("tid", out var tid) ? tid.ToString() : ""))
            .ToList();
        var self = new Dictionary<string, (double Self, double Total, int Calls)>();
        foreach (var thread in events.GroupBy(e => e.Thread))
        {
            // Parents first: earlier start, and the longer of two that start together.
            var ordered = thread.OrderBy(e => e.Start).ThenByDescending(e => e.Duration).ToList();
            var stack = new Stack<(string Name, double End, double Children, double Duration)>();
            void Pop()
            {
                var done = stack.Pop();
                var entry = self.GetValueOrDefault(done.Name);
                self[done.Name] = (entry.Self + done.Duration - done.Children, entry.Total + done.Duration, entry.Calls + 1);
            }
            foreach (var e in ordered)
            {
                while (stack.Count > 0 && stack.Peek().End <= e.Start)
                    Pop();
                if (stack.Count > 0)
                {
                    var parent = stack.Pop();
                    stack.Push(parent with { Children = parent.Children + e.Duration });
                }
                stack.Push((e.Name, e.Start + e.Duration, 0, e.Duration));
            }
            while (stack.Count > 0)
                Pop();
        }
        return self.Select(p => new Op(p.Key, p.Value.Self / 1000, p.Value.Total / 1000, p.Value.Calls)).OrderByDescending(o => o.SelfMs).ToList();
    }

    public static void Print(string path, TextWriter output, int steps, int top = 25)
    {
        var ops = Read(path);
        var all = ops.Sum(o => o.SelfMs);
        output.WriteLine($"profile ({path}): {all / steps:F0} ms of ops per step; top {top} by self time, per step");
        output.WriteLine($"{"op",-52} {"self ms",9} {"%",6} {"total ms",9} {"calls",7}");
        foreach (var o in ops.Take(top))
            output.WriteLine($"{(o.Name.Length > 52 ? o.Name[..52] : o.Name),-52} {o.SelfMs / steps,9:F1} {100 * o.SelfMs / all,6:F1} {o.TotalMs / steps,9:F1} {o.Calls / (double)steps,7:F1}");
    }
}
