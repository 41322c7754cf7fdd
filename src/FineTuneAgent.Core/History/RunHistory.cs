using System.Text.Json.Nodes;
using FineTuneAgent.Actors;
using FineTuneAgent.Core.Training;
using static FineTuneAgent.Core.History.HistoryProtocol;

namespace FineTuneAgent.Core.History;

/// <summary>
/// What one run tells the history's single writer (<see cref="HistoryWriter"/>) as it happens: the run when it is
/// planned (with the model's hash and the hardware it runs on), the dataset's hash once prepared, every metric
/// event, checkpoint, evaluation and export, and how it ended. Everything is told, never asked: a run does not
/// wait for its history, and a refused or failed write costs the history a row, not the run. The writer applies
/// the writes in the order they were told, so the history follows run.json and metrics.jsonl step by step.
/// </summary>
public sealed class RunHistory(IActorRef writer, string runId)
{
    private HistoryRun? _run;

    public string RunId => runId;

    /// <summary>Whether <see cref="Recorded"/> was told: later writes have a row to attach to.</summary>
    public bool IsRecorded => _run is not null;

    /// <summary>Records (or re-records, for a resume) the run as running.</summary>
    public void Recorded(HistoryRun run)
    {
        if (run.Id != runId)
            throw new ArgumentException($"history row for run {run.Id} given to the history of run {runId}", nameof(run));
        _run = run with { Status = RunStatus.Running, UpdatedAt = DateTimeOffset.UtcNow, EndedAt = null, Error = null };
        writer.Tell(new RecordRun(_run));
    }

    /// <summary>The prepared data's hash (<see cref="Datasets.PreparedDataset.ContentHash"/>).</summary>
    public void DatasetHashed(string hash)
    {
        if (_run is null)
            return;
        _run = _run with { DatasetHash = hash, UpdatedAt = DateTimeOffset.UtcNow };
        writer.Tell(new RecordRun(_run));
    }

    /// <summary>The run goes on from <paramref name="step"/>'s checkpoint (0: from the start): later rows are repeated.</summary>
    public void RestartsAfter(int step)
    {
        if (_run is not null)
            writer.Tell(new TruncateMetricsAfter(runId, step));
    }

    /// <summary>A training or stage event: a metric row for steps, validations and retries; an artefact row for a checkpoint.</summary>
    public void Report(TrainingEvent e)
    {
        if (_run is null)
            return;
        if (e is CheckpointSaved saved)
        {
            writer.Tell(new RecordArtefact(HistoryArtefact.Describe(runId, "checkpoint", saved.Path, hash: false)));
            return;
        }
        if (e is JobMessage or StageStarted or StageProgressed)
            return;
        if (HistoryMetric.FromEventJson(TrainingEventJson.Write(e)) is { } metric)
            writer.Tell(new AppendMetrics(runId, [metric]));
    }

    /// <summary>The evaluation's results as saved in <paramref name="savedTo"/> (eval.json; also the row's source, as the run-folder import names it).</summary>
    public void Evaluated(JsonObject results, string? savedTo)
    {
        if (_run is null)
            return;
        writer.Tell(new RecordEvaluation(runId, results, savedTo));
        if (savedTo is not null)
            writer.Tell(new RecordArtefact(HistoryArtefact.Describe(runId, "evaluation", savedTo, hash: true)));
    }

    /// <summary>Something the run left on disk, already described (hashing an export is done off the caller's thread).</summary>
    public void Artefact(HistoryArtefact artefact)
    {
        if (_run is not null)
            writer.Tell(new RecordArtefact(artefact));
    }

    public void Completed(TrainingSummary summary) => Ended(RunStatus.Completed, null, summary.ToJson());

    public void Failed(string reason) => Ended(RunStatus.Failed, reason, null);

    /// <summary>Cancelled by its user, or interrupted by its agent's shutdown (<paramref name="status"/>).</summary>
    public void Cancelled(RunStatus status = RunStatus.Cancelled, string reason = "cancelled") => Ended(status, reason, null);

    private void Ended(RunStatus status, string? error, JsonObject? summary)
    {
        if (_run is not null)
            writer.Tell(new UpdateStatus(runId, status, error, summary));
    }
}
