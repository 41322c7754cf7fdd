using System.Text.Json.Nodes;
using FineTuneAgent.Actors;
using FineTuneAgent.Core.History;
using FineTuneAgent.Core.Training;
using static FineTuneAgent.Core.History.HistoryProtocol;

// Usage: HistoryWorker <history.db> <metrics per run>
// Writes run-0, run-1, … forever: each run is recorded, gets its metrics in one batch, and is completed, every
// write asked so it is known to be committed; then "committed run-N" is printed. The test kills it mid-loop.
var store = HistoryStore.Open(args[0]);
var perRun = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
using var system = ActorSystem.Create("history-worker");
var writer = system.ActorOf(HistoryWriter.Props(store), "history");
var timeout = TimeSpan.FromMinutes(1);
for (var i = 0; ; i++)
{
    var id = $"run-{i}";
    await writer.Ask<Written>(new RecordRun(new HistoryRun { Id = id, Method = "lora", Config = new JsonObject { ["run_id"] = id, ["padding"] = new string('x', 2000) } }), timeout);
    var metrics = Enumerable.Range(1, perRun).Select(s => new HistoryMetric(s, HistoryMetricKind.Train, Loss: 10.0 / s, LearningRate: 1e-4, Extra: new JsonObject { ["epoch"] = s / 100.0 })).ToList();
    await writer.Ask<Written>(new AppendMetrics(id, metrics), timeout);
    await writer.Ask<Written>(new UpdateStatus(id, RunStatus.Completed), timeout);
    Console.WriteLine($"committed {id}");
    Console.Out.Flush();
}
