using System.Text.Json.Nodes;
using Spectre.Console;

namespace FineTuneAgent.Console.Tui;

/// <summary>
/// One run: status and progress, losses, its curves, the evaluation after training, its artefacts; keys to cancel,
/// resume, or export it.
/// </summary>
internal sealed class RunScreen(string runId) : Screen
{
    public string RunId => runId;

    public override string Title => $"run {runId}";

    public override string Keys => "c cancel · r resume · e export GGUF · x export PEFT · Esc back · q quit";

    public override IReadOnlyList<string> Render(ConsoleData data, int width, int height)
    {
        data.Selected = runId;
        var lines = new List<string>();
        var details = data.Details(runId);
        var row = data.Snapshot.Runs.FirstOrDefault(r => r.Id == runId);
        if (details is null || row is null)
        {
            lines.Add($"[grey]loading run {Markup.Escape(runId)}…[/]");
            return lines;
        }
        var live = details["live"] as JsonObject;
        var stats = details["stats"] as JsonObject;
        lines.Add($"{Cells.Status(row.Status)} · {Esc(row.Method)} · model {Esc(row.Model ?? "built-in")} · created {Esc(row.Created)}");
        var fraction = row.Status == "completed" ? 1 : row.TotalSteps is > 0 ? row.Steps / (double)row.TotalSteps.Value : 0;
        lines.Add($"step {row.Steps}{(row.TotalSteps is { } t ? $"/{t}" : "")}  " + Cells.Bar(fraction, Math.Min(40, width - 20), row.Status == "running" ? "blue" : "green")
            + (row.Status == "running" ? $"  {Cells.Number(row.TokensPerSecond, "F0")} tok/s · ETA {Cells.Duration(row.EtaSeconds)}" : ""));
        lines.Add($"train loss {Cells.Number((double?)stats?["first_train_loss"])} → {Cells.Number((double?)stats?["last_train_loss"])} · "
            + $"eval loss last {Cells.Number((double?)stats?["last_eval_loss"])} best {Cells.Number((double?)stats?["best_eval_loss"])} · retries {stats?["retries"] ?? 0}"
            + (live?["queue_position"] is { } q ? $" · queue position {q}" : ""));
        if (row.Error is { } error)
            lines.Add($"[red]{Cells.Fit(error, width)}[/]");
        var chartHeight = Math.Max(3, Math.Min(8, height - lines.Count - 10));
        lines.AddRange(DashboardScreen.Chart(data, row, width, chartHeight));

        lines.Add("[bold]Evaluation[/]");
        if (details["evaluations"] is JsonArray { Count: > 0 } evaluations && evaluations[^1]?["results"] is JsonObject results)
        {
            var b = results["base"]; var tuned = results["tuned"];
            lines.Add(Cells.Fit($"held-out loss {Cells.Number((double?)b?["validation"]?["loss"])} base → {Cells.Number((double?)tuned?["validation"]?["loss"])} tuned · "
                + $"ROUGE-L {Cells.Number((double?)b?["generation"]?["scores"]?["rouge_l"], "F1")} → {Cells.Number((double?)tuned?["generation"]?["scores"]?["rouge_l"], "F1")}", width));
        }
        else
            lines.Add("[grey]none (hold rows out with a validation size to evaluate after training)[/]");
        lines.Add("[bold]Artefacts[/]");
        var artefacts = (details["artefacts"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var shown = artefacts.Where(a => (string?)a["kind"] != "checkpoint").ToList();
        var checkpoints = artefacts.Count - shown.Count;
        if (checkpoints > 0)
            lines.Add(Cells.Fit($"{checkpoints} checkpoint(s), last {artefacts.Last(a => (string?)a["kind"] == "checkpoint")["path"]}", width));
        foreach (var a in shown)
            lines.Add(Cells.Fit($"{a["kind"]}: {a["path"]}{(a["sha256"] is { } sha ? $" sha256 {((string)sha!)[..12]}…" : "")}", width));
        if (artefacts.Count == 0)
            lines.Add("[grey]none yet[/]");
        return lines.Take(height).ToList();
    }

    public override ScreenAction Handle(ConsoleKeyInfo key, ConsoleData data)
    {
        switch (key.Key)
        {
            case ConsoleKey.C:
                Notice = Cancel(data, runId);
                break;
            case ConsoleKey.R:
                Notice = Act(data, () => data.Client.Post($"api/v1/runs/{runId}/resume"), $"run {runId} resumed from its last checkpoint");
                break;
            case ConsoleKey.E:
                Notice = Export(data, "gguf");
                break;
            case ConsoleKey.X:
                Notice = Export(data, "peft");
                break;
            case ConsoleKey.Escape or ConsoleKey.Backspace:
                return ScreenAction.Back;
            case ConsoleKey.Q:
                return ScreenAction.Quit;
        }
        return ScreenAction.Stay;
    }

    private string Export(ConsoleData data, string format) =>
        Act(data, () => data.Client.Post($"api/v1/runs/{runId}/export", new JsonObject { ["formats"] = new JsonArray(format) }),
            $"exporting run {runId} as {format}; it appears under Artefacts when written");

    public static string Cancel(ConsoleData data, string runId) =>
        Act(data, () => data.Client.Post($"api/v1/runs/{runId}/cancel"), $"cancel sent to run {runId} (a running run saves a checkpoint first)");

    /// <summary>Runs an API action; its notice says what happened, or the agent's reason.</summary>
    public static string Act(ConsoleData data, Func<JsonObject> action, string done)
    {
        try
        {
            action();
            data.Refresh();
            return $"[green]{Markup.Escape(done)}[/]";
        }
        catch (Exception e) when (e is ArgumentException or AgentRequestException or UnauthorizedAccessException)
        {
            return $"[red]{Markup.Escape(e.Message)}[/]";
        }
    }
}
