using System.Globalization;
using System.Text.Json.Nodes;
using FineTuneAgent.Core.History;
using FineTuneAgent.Core.Training;
using Spectre.Console;

namespace FineTuneAgent.Console;

/// <summary>`fta runs` as a person reads it: tables of runs, one run's details, two runs compared, with loss curves.</summary>
internal static class RunsView
{
    private const int ChartWidth = 64;
    private const int ChartHeight = 12;

    public static void List(IAnsiConsole console, IReadOnlyList<(HistoryRun Run, HistoryRunStats Stats)> runs, string database)
    {
        if (runs.Count == 0)
        {
            console.MarkupLine($"No runs in {Markup.Escape(database)}.");
            return;
        }
        var table = new Table().AddColumns("Run", "Status", "Method", "Model", "Started", "Steps", "Train loss", "Best eval", "Took");
        foreach (var (run, stats) in runs)
        {
            table.AddRow(Markup.Escape(run.Id), StatusMarkup(run.Status), Markup.Escape(run.Method ?? "?"), Markup.Escape(ModelName(run)),
                Local(run.StartedAt ?? run.CreatedAt), stats.Steps.ToString(CultureInfo.InvariantCulture),
                $"{Loss(stats.FirstTrainLoss)} → {Loss(stats.LastTrainLoss)}", Loss(stats.BestEvalLoss), Duration(run));
        }
        console.Write(table);
        console.MarkupLine($"{runs.Count} run{(runs.Count == 1 ? "" : "s")} in {Markup.Escape(database)}");
    }

    public static void Show(IAnsiConsole console, HistoryRun run, HistoryRunStats stats, IReadOnlyList<HistoryMetric> metrics,
        IReadOnlyList<HistoryEvaluation> evaluations, IReadOnlyList<HistoryArtefact> artefacts)
    {
        var grid = new Grid().AddColumn().AddColumn();
        void Row(string name, string? value)
        {
            if (value is not null)
                grid.AddRow($"[bold]{name}[/]", value);
        }
        Row("Run", Markup.Escape(run.Id));
        Row("Status", StatusMarkup(run.Status));
        Row("Error", run.Error is { } error ? $"[red]{Markup.Escape(error)}[/]" : null);
        Row("Method", Markup.Escape(run.Method ?? "?"));
        Row("Model", Markup.Escape(run.ModelPath ?? "?"));
        Row("Model hash", run.ModelHash is { } mh ? Markup.Escape(mh) : null);
        Row("Dataset hash", run.DatasetHash is { } dh ? Markup.Escape(dh) : null);
        Row("Created", Local(run.CreatedAt));
        Row("Ended", run.EndedAt is { } ended ? $"{Local(ended)} (took {Duration(run)})" : null);
        Row("Output", run.OutputDirectory is { } output ? Markup.Escape(output) : null);
        Row("Steps", $"{stats.Steps}{(run.Summary?["total_steps"] is JsonValue total ? $" of {total}" : "")}{(stats.Retries > 0 ? $", {stats.Retries} out-of-memory retries" : "")}");
        Row("Train loss", $"{Loss(stats.FirstTrainLoss)} → {Loss(stats.LastTrainLoss)}");
        Row("Eval loss", stats.LastEvalLoss is null ? null : $"last {Loss(stats.LastEvalLoss)}, best {Loss(stats.BestEvalLoss)}");
        console.Write(grid);

        var chart = new LineChart(ChartWidth, ChartHeight)
            .Add("train loss", Points(metrics, HistoryMetricKind.Train), Color.Blue)
            .Add("eval loss", Points(metrics, HistoryMetricKind.Eval), Color.Orange1, '◆');
        Chart(console, "Loss", chart);

        if (evaluations.Count > 0)
        {
            var table = new Table().Title("Evaluations").AddColumns("When", "Model", "Val loss", "Perplexity", "BLEU-4", "ROUGE-L", "Exact match");
            foreach (var e in evaluations)
            {
                foreach (var side in new[] { "base", "tuned" })
                {
                    if (e.Results[side] is not JsonObject m)
                        continue;
                    table.AddRow(Local(e.CreatedAt), side, Number(m["validation"]?["loss"]), Number(m["validation"]?["perplexity"]),
                        Number(m["generation"]?["bleu-4"]), Number(m["generation"]?["rouge-l"]), Number(m["generation"]?["exact_match"]));
                }
            }
            console.Write(table);
        }
        if (artefacts.Count > 0)
        {
            var table = new Table().Title("Artefacts").AddColumns("Kind", "Path", "Size", "SHA-256");
            foreach (var a in artefacts)
                table.AddRow(Markup.Escape(a.Kind), Markup.Escape(a.Path), a.Bytes is { } b ? Size(b) : "missing", a.Sha256 is { } sha ? sha[..16] + "…" : "");
            console.Write(table);
        }
        var config = new Table().Title("Configuration").AddColumns("Key", "Value");
        foreach (var (key, value) in ConfigDifference.Leaves(run.Config))
            config.AddRow(Markup.Escape(key), Markup.Escape(value));
        console.Write(config);
    }

    public static void Compare(IAnsiConsole console, RunComparison c)
    {
        var table = new Table().AddColumns("", $"A: {Markup.Escape(c.A.Id)}", $"B: {Markup.Escape(c.B.Id)}");
        table.AddRow("Status", StatusMarkup(c.A.Status), StatusMarkup(c.B.Status));
        table.AddRow("Method", Markup.Escape(c.A.Method ?? "?"), Markup.Escape(c.B.Method ?? "?"));
        table.AddRow("Model", Markup.Escape(ModelName(c.A)), Markup.Escape(ModelName(c.B)));
        table.AddRow("Steps", c.StatsA.Steps.ToString(CultureInfo.InvariantCulture), c.StatsB.Steps.ToString(CultureInfo.InvariantCulture));
        table.AddRow("First train loss", Loss(c.StatsA.FirstTrainLoss), Loss(c.StatsB.FirstTrainLoss));
        table.AddRow("Last train loss", Loss(c.StatsA.LastTrainLoss), Loss(c.StatsB.LastTrainLoss));
        table.AddRow("Best eval loss", Loss(c.StatsA.BestEvalLoss), Loss(c.StatsB.BestEvalLoss));
        table.AddRow("Took", Duration(c.A), Duration(c.B));
        console.Write(table);

        var chart = new LineChart(ChartWidth, ChartHeight)
            .Add("A train", Points(c.MetricsA, HistoryMetricKind.Train), Color.Blue)
            .Add("B train", Points(c.MetricsB, HistoryMetricKind.Train), Color.Green)
            .Add("A eval", Points(c.MetricsA, HistoryMetricKind.Eval), Color.Orange1, '◆')
            .Add("B eval", Points(c.MetricsB, HistoryMetricKind.Eval), Color.Red, '●');
        Chart(console, "Loss", chart);

        if (c.ConfigDifferences.Count == 0)
        {
            console.MarkupLine("Configurations: identical.");
            return;
        }
        var diff = new Table().Title($"Configuration differences ({c.ConfigDifferences.Count})").AddColumns("Key", "A", "B");
        foreach (var d in c.ConfigDifferences)
            diff.AddRow(Markup.Escape(d.Key), d.A is null ? "[grey](absent)[/]" : Markup.Escape(d.A), d.B is null ? "[grey](absent)[/]" : Markup.Escape(d.B));
        console.Write(diff);
    }

    private static void Chart(IAnsiConsole console, string title, LineChart chart)
    {
        if (chart.IsEmpty)
        {
            console.MarkupLine("No loss recorded yet.");
            return;
        }
        console.MarkupLine($"[bold]{title}[/]");
        foreach (var line in chart.Render())
            console.MarkupLine(line);
    }

    private static IEnumerable<(double, double)> Points(IReadOnlyList<HistoryMetric> metrics, HistoryMetricKind kind) =>
        metrics.Where(m => m.Kind == kind && m.Loss is not null).Select(m => ((double)m.Step, m.Loss!.Value));

    private static string StatusMarkup(RunStatus status) => status switch
    {
        RunStatus.Completed => "[green]completed[/]",
        RunStatus.Failed => "[red]failed[/]",
        RunStatus.Cancelled => "[yellow]cancelled[/]",
        RunStatus.Queued => "[grey]queued[/]",
        RunStatus.Interrupted => "[yellow]interrupted[/]",
        _ => "[blue]running[/]",
    };

    /// <summary>The model folder's name; the built-in model's folder says which it is (qwen3-tiny-seed0).</summary>
    private static string ModelName(HistoryRun run) => run.ModelPath is { } p ? Path.GetFileName(p.TrimEnd('/')) : "?";

    private static string Local(DateTimeOffset t) => t.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string Loss(double? v) => v is { } x ? x.ToString("0.0000", CultureInfo.InvariantCulture) : "-";

    private static string Number(JsonNode? node) => node is JsonValue v && v.TryGetValue<double>(out var d) ? d.ToString("0.####", CultureInfo.InvariantCulture) : "-";

    private static string Duration(HistoryRun run)
    {
        if (run.EndedAt is not { } end)
            return "-";
        var took = end - (run.StartedAt ?? run.CreatedAt);
        return took.TotalHours >= 1 ? $"{(int)took.TotalHours}h{took.Minutes:00}m" : took.TotalMinutes >= 1 ? $"{(int)took.TotalMinutes}m{took.Seconds:00}s" : $"{took.TotalSeconds:0.0}s";
    }

    private static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.0} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.0} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} B",
    };
}
