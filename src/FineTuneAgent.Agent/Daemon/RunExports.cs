using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using FineTuneAgent.Actors;
using FineTuneAgent.Core;
using FineTuneAgent.Core.Export;
using FineTuneAgent.Core.History;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Training;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Agent.Daemon;

/// <summary>
/// Exports of finished runs asked through the API (`POST /runs/{id}/export`): each runs on its own long-running task
/// (a merged 7B export takes minutes, longer than a request should wait), one at a time per run, and records what it
/// wrote in the history (artefact rows with SHA-256). Its state (exporting, done with the paths, failed with the
/// reason) is kept in memory for `GET /runs/{id}`.
/// </summary>
public sealed class RunExports(RunStore store, PluginHost plugins, IActorRef history)
{
    private readonly ConcurrentDictionary<string, JsonObject> _state = new();

    /// <summary>Starts exporting <paramref name="runId"/>; throws (before starting) for a run that is not completed or already exporting.</summary>
    public void Start(string runId, IReadOnlyList<ExportFormat> formats, ScalarType? dtype, string quant)
    {
        if (!store.Exists(runId))
            throw new KeyNotFoundException($"no run {runId}");
        var record = store.Get(runId);
        if (record.Status != RunStatus.Completed)
            throw new InvalidOperationException($"run {runId} is {record.Status.ToString().ToLowerInvariant()}; only a completed run is exported");
        var state = new JsonObject { ["status"] = "exporting", ["formats"] = new JsonArray(formats.Select(f => (JsonNode?)ExportChoices.Name(f)).ToArray()) };
        if (_state.TryGetValue(runId, out var current) && (string?)current["status"] == "exporting")
            throw new InvalidOperationException($"run {runId} is already exporting");
        _state[runId] = state;
        var progress = new SynchronousProgress<ExportProgress>(p => state["progress"] = p.Message ?? $"{p.Phase} {p.Item} {p.Done}/{p.Total}");
        Task.Factory.StartNew(() =>
        {
            try
            {
                var results = Exporter.ExportRun(store, runId, formats, dtype, quant, plugins, Exporter.GgufWriter(plugins), progress);
                foreach (var r in results)
                    history.Tell(new HistoryProtocol.RecordArtefact(HistoryArtefact.Describe(runId, $"export-{ExportChoices.Name(r.Format)}", r.OutputPath, hash: true)));
                _state[runId] = new JsonObject { ["status"] = "done", ["outputs"] = new JsonArray(results.Select(r => (JsonNode?)r.OutputPath).ToArray()) };
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _state[runId] = new JsonObject { ["status"] = "failed", ["error"] = $"{e.GetType().Name}: {e.Message}" };
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>The run's latest export as the API shows it, or null when none was asked since the agent started.</summary>
    public JsonObject? StateOf(string runId) => _state.TryGetValue(runId, out var s) ? s.DeepClone().AsObject() : null;
}
