using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Actors;
using FineTuneAgent.Core.History;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Console.Commands;

/// <summary>
/// `fta runs list | show ID | compare A B | delete ID`: the run history (SQLite, &lt;runs-dir&gt;/history.db unless
/// --db). Each call first imports the JSON run folders of --runs-dir, so runs recorded as run.json appear too.
/// A run id may be shortened to any unique prefix.
/// </summary>
public static class RunsCommand
{
    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var runsDir = new Option<string?>("--runs-dir") { Description = "Where runs are recorded (default: FTA_RUNS_DIR or ~/.local/share/fta/runs).", Recursive = true };
        var db = new Option<string?>("--db") { Description = "The history database (default: <runs-dir>/history.db).", Recursive = true };
        var json = new Option<bool>("--json") { Description = "Print JSON.", Recursive = true };

        var status = new Option<string?>("--status") { Description = "Only runs in this status: running, completed, failed or cancelled." };
        var method = new Option<string?>("--method") { Description = "Only runs of this method (lora, qlora, dora, freeze, full)." };
        var search = new Option<string?>("--search") { Description = "Only runs whose id, model, error or configuration contains this text." };
        var limit = new Option<int?>("--limit") { Description = "At most this many runs, newest first." };
        var list = new Command("list", "List runs, newest first.") { status, method, search, limit };
        list.SetAction(parse =>
        {
            var (store, _) = Open(parse.GetValue(runsDir), parse.GetValue(db));
            using var reader = store.OpenReader();
            var runs = reader.ListRuns(new RunFilter(ParseStatus(parse.GetValue(status)), parse.GetValue(method), parse.GetValue(search), parse.GetValue(limit)))
                .Select(r => (Run: r, Stats: reader.Stats(r.Id))).ToList();
            if (parse.GetValue(json))
                Print(new JsonObject { ["database"] = store.DatabasePath, ["runs"] = HistoryJson.Array(runs, r => HistoryJson.Run(r.Run, r.Stats)) });
            else
                RunsView.List(Terminal.Create(), runs, store.DatabasePath);
            return 0;
        });

        var showId = new Argument<string>("id") { Description = "Run id (or a unique prefix)." };
        var show = new Command("show", "One run: status, model, losses, loss curves, evaluations, artefacts, configuration.") { showId };
        show.SetAction(parse =>
        {
            var (store, _) = Open(parse.GetValue(runsDir), parse.GetValue(db));
            using var reader = store.OpenReader();
            var run = reader.GetRun(parse.GetValue(showId)!);
            var (stats, metrics, evaluations, artefacts) = (reader.Stats(run.Id), reader.Metrics(run.Id), reader.Evaluations(run.Id), reader.Artefacts(run.Id));
            if (parse.GetValue(json))
            {
                var o = HistoryJson.Run(run, stats, full: true);
                o["metrics"] = HistoryJson.Array(metrics, HistoryJson.Metric);
                o["evaluations"] = HistoryJson.Array(evaluations, HistoryJson.Evaluation);
                o["artefacts"] = HistoryJson.Array(artefacts, HistoryJson.Artefact);
                Print(o);
            }
            else
            {
                RunsView.Show(Terminal.Create(), run, stats, metrics, evaluations, artefacts);
            }
            return 0;
        });

        var a = new Argument<string>("a") { Description = "First run id (or a unique prefix)." };
        var b = new Argument<string>("b") { Description = "Second run id (or a unique prefix)." };
        var compare = new Command("compare", "Two runs side by side: losses, both loss curves overlaid, configuration differences key by key.") { a, b };
        compare.SetAction(parse =>
        {
            var (store, _) = Open(parse.GetValue(runsDir), parse.GetValue(db));
            using var reader = store.OpenReader();
            var c = reader.Compare(parse.GetValue(a)!, parse.GetValue(b)!);
            if (parse.GetValue(json))
            {
                Print(new JsonObject
                {
                    ["a"] = WithMetrics(HistoryJson.Run(c.A, c.StatsA), c.MetricsA),
                    ["b"] = WithMetrics(HistoryJson.Run(c.B, c.StatsB), c.MetricsB),
                    ["config_differences"] = HistoryJson.Array(c.ConfigDifferences, HistoryJson.Difference),
                });
            }
            else
            {
                RunsView.Compare(Terminal.Create(), c);
            }
            return 0;
        });

        var deleteId = new Argument<string>("id") { Description = "Run id (or a unique prefix)." };
        var delete = new Command("delete", "Delete a run from the history (its metrics, evaluations and artefact records). Its files are kept.") { deleteId };
        delete.SetAction(parse =>
        {
            var (store, runs) = Open(parse.GetValue(runsDir), parse.GetValue(db));
            HistoryRun run;
            using (var reader = store.OpenReader())
                run = reader.GetRun(parse.GetValue(deleteId)!);
            // Through the history's single writer, as every other write: the running agent's (which also refuses a
            // run it is training), else one of our own.
            using (var agent = AgentClient.Serving(runs.Folder))
            {
                if (agent is not null)
                {
                    agent.Delete($"api/v1/runs/{Uri.EscapeDataString(run.Id)}");
                }
                else
                {
                    using var system = ActorSystem.Create("fta-runs");
                    var writer = system.ActorOf(HistoryWriter.Props(store), "history");
                    writer.Ask<HistoryProtocol.RunDeleted>(new HistoryProtocol.DeleteRun(run.Id), TimeSpan.FromMinutes(1)).GetAwaiter().GetResult();
                }
            }
            var kept = new[] { runs.RunFolder(run.Id), run.OutputDirectory }.Where(p => p is not null && Path.Exists(p)).Cast<string>().ToList();
            if (parse.GetValue(json))
                Print(new JsonObject { ["deleted"] = run.Id, ["database"] = store.DatabasePath, ["kept"] = new JsonArray(kept.Select(k => (JsonNode?)k).ToArray()) });
            else
                System.Console.WriteLine($"deleted run {run.Id} from {store.DatabasePath}{(kept.Count > 0 ? $"; its files were kept: {string.Join(", ", kept)}" : "")}");
            return 0;
        });

        return new Command("runs", "The run history: list, show, compare and delete runs.") { runsDir, db, json, list, show, compare, delete };
    }

    /// <summary>Opens the history and imports the JSON run folders into it; folders it cannot read are reported, not fatal.</summary>
    private static (HistoryStore Store, RunStore Runs) Open(string? runsDir, string? db)
    {
        var runs = new RunStore(runsDir ?? RunStore.DefaultFolder);
        var store = HistoryStore.Open(db ?? HistoryStore.DefaultPath(runs.Folder));
        foreach (var problem in store.ImportRunFolders(runs).Problems)
            System.Console.Error.WriteLine($"fta: warning: {problem}");
        return (store, runs);
    }

    private static RunStatus? ParseStatus(string? text) =>
        text is null ? null
        : Enum.TryParse<RunStatus>(text, ignoreCase: true, out var s) && Enum.IsDefined(s) && !int.TryParse(text, out _) ? s
        : throw new ArgumentException($"--status {text}: expected one of {string.Join(", ", Enum.GetNames<RunStatus>().Select(n => n.ToLowerInvariant()))}");

    private static JsonObject WithMetrics(JsonObject run, IReadOnlyList<HistoryMetric> metrics)
    {
        run["metrics"] = HistoryJson.Array(metrics, HistoryJson.Metric);
        return run;
    }

    private static void Print(JsonObject o) => System.Console.WriteLine(o.ToJsonString(s_indented));
}
