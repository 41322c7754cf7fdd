using System.Text.Json.Nodes;
using Spectre.Console;

namespace FineTuneAgent.Console.Tui;

/// <summary>Two runs side by side: their losses, both training curves overlaid, and where their configurations differ.</summary>
internal sealed class CompareScreen(string a, string b) : Screen
{
    private JsonObject? _a, _b;
    private string? _problem;

    public override string Title => "compare";

    public override string Keys => "Esc back · q quit";

    public override IReadOnlyList<string> Render(ConsoleData data, int width, int height)
    {
        if (_a is null || _b is null)
        {
            try
            {
                _a = data.Client.Get($"api/v1/runs/{a}");
                _b = data.Client.Get($"api/v1/runs/{b}");
            }
            catch (Exception e) when (e is ArgumentException or AgentRequestException)
            {
                _problem = e.Message;
            }
        }
        if (_a is null || _b is null)
            return [$"[red]{Markup.Escape(_problem ?? "loading…")}[/]"];
        var lines = new List<string>();
        foreach (var (label, run, color) in new[] { ("A", _a, "blue"), ("B", _b, "orange1") })
        {
            var stats = run["stats"];
            lines.Add($"[{color}]{label}[/] " + Cells.Fit($"{run["id"]} {run["status"]} {run["method"]} · steps {stats?["steps"]} · loss {Cells.Number((double?)stats?["first_train_loss"])} → "
                + $"{Cells.Number((double?)stats?["last_train_loss"])} · best eval {Cells.Number((double?)stats?["best_eval_loss"])}", width - 2));
        }
        var chart = new LineChart(Math.Max(10, width - 12), Math.Max(3, Math.Min(8, height - 12)));
        chart.Add($"A {Cells.ShortId(a)}", DashboardScreen.Points(_a["metrics"] as JsonArray ?? [], "train"), Color.Blue);
        chart.Add($"B {Cells.ShortId(b)}", DashboardScreen.Points(_b["metrics"] as JsonArray ?? [], "train"), Color.Orange1);
        lines.AddRange(chart.IsEmpty ? ["[grey]no steps to draw[/]"] : chart.Render());
        lines.Add("[bold]Configuration differences[/] (A → B)");
        var differences = Differences(_a["config"] as JsonObject, _b["config"] as JsonObject).Where(d => d.Key != "run_id" && d.Key != "output_dir").ToList();
        foreach (var (key, x, y) in differences)
            lines.Add(Cells.Fit($"{key}: {x} → {y}", width));
        if (differences.Count == 0)
            lines.Add("[grey]none besides the run id and output folder[/]");
        return lines.Take(height).ToList();
    }

    /// <summary>Leaf values of two JSON objects by dotted path where they differ (absent shown as "-").</summary>
    public static IEnumerable<(string Key, string A, string B)> Differences(JsonObject? x, JsonObject? y)
    {
        var left = Flatten(x, "").ToDictionary(p => p.Key, p => p.Value);
        var right = Flatten(y, "").ToDictionary(p => p.Key, p => p.Value);
        foreach (var key in left.Keys.Union(right.Keys).Order(StringComparer.Ordinal))
        {
            var (l, r) = (left.GetValueOrDefault(key) ?? "-", right.GetValueOrDefault(key) ?? "-");
            if (l != r)
                yield return (key, l, r);
        }
    }

    private static IEnumerable<KeyValuePair<string, string>> Flatten(JsonNode? node, string prefix)
    {
        if (node is JsonObject o)
        {
            foreach (var (k, v) in o)
                foreach (var p in Flatten(v, prefix.Length == 0 ? k : $"{prefix}.{k}"))
                    yield return p;
        }
        else if (node is not null)
            yield return KeyValuePair.Create(prefix, node.ToJsonString());
    }

    public override ScreenAction Handle(ConsoleKeyInfo key, ConsoleData data) => key.Key switch
    {
        ConsoleKey.Escape or ConsoleKey.Backspace => ScreenAction.Back,
        ConsoleKey.Q => ScreenAction.Quit,
        _ => ScreenAction.Stay,
    };
}
