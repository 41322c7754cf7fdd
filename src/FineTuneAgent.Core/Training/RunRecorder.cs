namespace FineTuneAgent.Core.Training;

/// <summary>
/// Records a run's events as they pass on to <paramref name="next"/>: every event that is a fact about the run
/// (steps, evaluations, checkpoints, retries, the prepared dataset, the quantized base) as a metrics.jsonl
/// line, and each saved checkpoint in run.json. Chatter is passed on but not recorded: messages, stage
/// starts and per-item stage progress.
/// </summary>
public sealed class RunRecorder(RunStore store, string runId, IProgress<TrainingEvent>? next) : IProgress<TrainingEvent>
{
    public void Report(TrainingEvent value)
    {
        if (value is not (JobMessage or StageStarted or StageProgressed))
            store.AppendMetric(runId, TrainingEventJson.Write(value));
        if (value is CheckpointSaved saved)
        {
            var record = store.Get(runId);
            store.Save(record with { Checkpoints = record.Checkpoints.Where(c => c != saved.Path).Append(saved.Path).ToList() });
        }
        next?.Report(value);
    }
}
