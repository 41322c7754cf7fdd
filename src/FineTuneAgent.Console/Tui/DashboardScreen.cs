using System.Text.Json.Nodes;
using Spectre.Console;

namespace FineTuneAgent.Console.Tui;

/// <summary>
/// The console's home: the agent's hardware and queue, the runs table (status, method, model, progress, loss,
/// tokens/s, ETA), the selected run's loss curve, and the latest log lines.
/// </summary>
internal sealed class DashboardScreen : Screen
{
    private int _selected;

    public override string Title => "dashboard";

    public override string Keys => "↑↓ select · Enter open · n new run · c cancel · h history · p plugins · q quit";

    public override IReadOnlyList<string> Render(ConsoleData data, int width, int height)
    {
        var snap = data.Snapshot;
        var lines = new List<string>();
        lines.AddRange(HardwareLines(snap.Node, width));
        if (PoolLine(snap.Pool, width) is { } pool)
            lines.Add(pool);
        var runs = snap.Runs;
        var running = runs.Count(r => r.Status == "running");
        var queued = runs.Count(r => r.Status == "queued");
        lines.Add($"[bold]Runs[/]: {running} running, {queued} queued, {runs.Count} in history");

        // Rows left for the table once the chart (its plot, axis, labels, legend and title) and the log have theirs.
        var logLines = height >= 30 ? 4 : 2;
        var chartHeight = height >= 30 ? 6 : 3;
        var tableRows = Math.Max(3, height - lines.Count - (chartHeight + 4) - (logLines + 1));
        _selected = Math.Clamp(_selected, 0, Math.Max(0, runs.Count - 1));
        if (runs.Count > 0)
            data.Selected = runs[_selected].Id;
        lines.AddRange(RunTable(runs, _selected, width, tableRows));

        var selected = runs.Count > 0 ? runs[_selected] : null;
        lines.AddRange(Chart(data, selected, width, chartHeight));
        lines.Add("[bold]Log[/]");
        var log = data.Log;
        for (var i = Math.Max(0, log.Count - logLines); i < log.Count; i++)
            lines.Add(Cells.Fit(log[i], width));
        return lines.Take(height).ToList();
    }

    public static IEnumerable<string> HardwareLines(JsonObject? node, int width)
    {
        if (node?["hardware"] is not JsonObject hw)
        {
            yield return "[grey]hardware: waiting for the agent…[/]";
            yield break;
        }
        var cpu = hw["cpu"]!;
        double Gib(string key) => ((double?)cpu[key] ?? 0) / (1L << 30);
        var isa = cpu["instruction_sets"] is JsonArray a ? string.Join(" ", a.Select(x => (string?)x)) : "";
        var text = $"CPU {cpu["model"]} · {cpu["logical_cores"]} cores · {Gib("available_memory_bytes"):F1}/{Gib("total_memory_bytes"):F1} GiB free · {isa}";
        yield return "[bold]Hardware[/] " + Cells.Fit(text, width - 9);
        var gpus = hw["gpus"] as JsonArray ?? [];
        if (gpus.Count == 0)
            yield return "[grey]no GPU: runs train on the CPU[/]";
        foreach (var g in gpus.OfType<JsonObject>().Take(2))
        {
            double free = ((double?)g["free_memory_bytes"] ?? 0) / 1e9, total = ((double?)g["total_memory_bytes"] ?? 0) / 1e9;
            yield return Cells.Fit($"GPU {g["index"]} {g["name"]} · {free:F1}/{total:F1} GB free · compute {g["compute_capability"]}", width);
        }
    }

    /// <summary>The other members of the pool with their state and runs, when this agent is in one.</summary>
    public static string? PoolLine(JsonObject? pool, int width)
    {
        if ((bool?)pool?["pool"] != true)
            return null;
        var self = (string?)pool!["self"];
        var peers = (pool["members"] as JsonArray ?? []).OfType<JsonObject>().Where(m => (string?)m["id"] != self && (string?)m["state"] != "removed")
            .Select(m => $"{m["name"]} {m["state"]} ({m["running"]} running)").ToList();
        return "[bold]Pool[/] " + Cells.Fit(peers.Count == 0 ? "no peers yet" : string.Join(" · ", peers), width - 5);
    }

    /// <summary>Column widths for the width given: the model column takes what is left.</summary>
    private static (int Id, int Status, int Method, int Model, int Progress, int Loss, int Speed, int Eta) Columns(int width)
    {
        const int id = 13, status = 11, method = 6, progress = 14, loss = 7, speed = 6, eta = 6;
        var model = Math.Max(6, width - 2 - id - status - method - progress - loss - speed - eta - 7);
        return (id, status, method, model, progress, loss, speed, eta);
    }

    /// <summary>The runs table: a header and up to <paramref name="rows"/> − 1 runs around the selected one; marked runs get a yellow *.</summary>
    public static IEnumerable<string> RunTable(IReadOnlyList<RunRow> runs, int selected, int width, int rows, IReadOnlyCollection<string>? marked = null)
    {
        var c = Columns(width);
        yield return "[bold]  " + Cells.Fit("RUN", c.Id) + " " + Cells.Fit("STATUS", c.Status) + " " + Cells.Fit("METHOD", c.Method) + " "
            + Cells.Fit("MODEL", c.Model) + " " + Cells.Fit("PROGRESS", c.Progress) + " " + Cells.Fit("LOSS", c.Loss, true) + " "
            + Cells.Fit("TOK/S", c.Speed, true) + " " + Cells.Fit("ETA", c.Eta, true) + "[/]";
        if (runs.Count == 0)
        {
            yield return "[grey]  no runs yet: press n to start one[/]";
            yield break;
        }
        var first = Math.Clamp(selected - rows + 2, 0, Math.Max(0, runs.Count - rows + 1));
        foreach (var (run, i) in runs.Select((r, i) => (r, i)).Skip(first).Take(rows - 1))
        {
            var fraction = run.Status == "completed" ? 1 : run.TotalSteps is > 0 ? run.Steps / (double)run.TotalSteps.Value : 0;
            var progress = run.Status is "running" or "completed" || run.TotalSteps is not null
                ? Cells.Bar(fraction, c.Progress, run.Status == "running" ? "blue" : "green")
                : Cells.Fit(run.Status == "queued" ? "waiting" : $"{run.Steps} steps", c.Progress);
            var line = (i == selected ? "[reverse]>[/]" : " ") + (marked?.Contains(run.Id) == true ? "[yellow]*[/]" : " ") + Cells.Fit(Cells.ShortId(run.Id), c.Id) + " " + Cells.StatusCell(run.Status, c.Status) + " "
                + Cells.Fit(run.Method, c.Method) + " " + Cells.Fit(run.Model ?? "built-in", c.Model) + " " + progress + " "
                + Cells.Fit(Cells.Number(run.Loss, "F3"), c.Loss, true) + " " + Cells.Fit(Cells.Number(run.TokensPerSecond, "F0"), c.Speed, true) + " "
                + Cells.Fit(run.Status == "running" ? Cells.Duration(run.EtaSeconds) : "", c.Eta, true);
            yield return line;
        }
    }

    /// <summary>The selected run's training (and validation) loss by step, from its history metrics.</summary>
    public static IEnumerable<string> Chart(ConsoleData data, RunRow? run, int width, int height)
    {
        yield return run is null ? "[bold]Loss[/]" : $"[bold]Loss[/] of {Markup.Escape(run.Id)}";
        var metrics = run is null ? null : data.Details(run.Id)?["metrics"] as JsonArray;
        var chart = new LineChart(Math.Max(10, width - 12), height);
        if (metrics is not null)
        {
            chart.Add("train", Points(metrics, "train"), Color.Blue);
            chart.Add("eval", Points(metrics, "eval"), Color.Orange1, '◆');
        }
        var drawn = chart.IsEmpty ? [] : chart.Render();
        for (var i = 0; i < height + 3; i++)
            yield return i < drawn.Count ? drawn[i] : i == 0 && chart.IsEmpty ? "[grey]  no steps yet[/]" : "";
    }

    public static IEnumerable<(double, double)> Points(JsonArray metrics, string kind) =>
        metrics.OfType<JsonObject>().Where(m => (string?)m["kind"] == kind && m["loss"] is not null)
            .Select(m => ((double)(int)m["step"]!, (double)m["loss"]!));

    public override ScreenAction Handle(ConsoleKeyInfo key, ConsoleData data)
    {
        var runs = data.Snapshot.Runs;
        switch (key.Key)
        {
            case ConsoleKey.UpArrow or ConsoleKey.K:
                _selected = Math.Max(0, _selected - 1);
                break;
            case ConsoleKey.DownArrow or ConsoleKey.J:
                _selected = Math.Min(Math.Max(0, runs.Count - 1), _selected + 1);
                break;
            case ConsoleKey.Enter when runs.Count > 0:
                return new ScreenAction.Open(new RunScreen(runs[_selected].Id));
            case ConsoleKey.N:
                return new ScreenAction.Open(new NewRunWizard(data));
            case ConsoleKey.H:
                return new ScreenAction.Open(new HistoryScreen());
            case ConsoleKey.P:
                return new ScreenAction.Open(new PluginsScreen());
            case ConsoleKey.C when runs.Count > 0:
                Notice = RunScreen.Cancel(data, runs[_selected].Id);
                break;
            case ConsoleKey.Q or ConsoleKey.Escape:
                return ScreenAction.Quit;
        }
        return ScreenAction.Stay;
    }
}
