using System.Text.Json.Nodes;

namespace FineTuneAgent.Core.Training;

/// <summary>Training events as flat JSON objects with an "event" field: metrics.jsonl lines and `fta train --json` output.</summary>
public static class TrainingEventJson
{
    public static JsonObject Write(TrainingEvent e) => e switch
    {
        StepCompleted s => new JsonObject
        {
            ["event"] = "step",
            ["step"] = s.Step,
            ["total_steps"] = s.TotalSteps,
            ["epoch"] = Math.Round(s.Epoch, 4),
            ["loss"] = s.Loss,
            ["learning_rate"] = s.LearningRate,
            ["grad_norm"] = s.GradNorm,
            ["tokens_per_second"] = Math.Round(s.TokensPerSecond, 1),
            ["elapsed_seconds"] = Math.Round(s.Elapsed.TotalSeconds, 3),
            ["eta_seconds"] = s.Eta is { } eta ? Math.Round(eta.TotalSeconds, 1) : null,
        },
        EvaluationCompleted v => new JsonObject
        {
            ["event"] = "eval",
            ["step"] = v.Step,
            ["eval_loss"] = v.ValidationLoss,
            ["is_best"] = v.IsBest,
            ["evals_without_improvement"] = v.EvaluationsWithoutImprovement,
        },
        CheckpointSaved c => new JsonObject { ["event"] = "checkpoint", ["step"] = c.Step, ["path"] = c.Path },
        EarlyStopped x => new JsonObject
        {
            ["event"] = "early_stopped",
            ["step"] = x.Step,
            ["patience"] = x.Patience,
            ["best_eval_loss"] = x.BestValidationLoss,
            ["best_step"] = x.BestStep,
        },
        // No "step" field: a resumed run drops metric lines after its checkpoint's step, and the retry must stay.
        TrainingRetried r => new JsonObject
        {
            ["event"] = "retry",
            ["attempt"] = r.Attempt,
            ["max_attempts"] = r.MaxAttempts,
            ["failed_step"] = r.FailedStep,
            ["from_step"] = r.FromStep,
            ["checkpoint"] = r.Checkpoint,
            ["per_device_train_batch_size"] = r.MicroBatchSize,
            ["gradient_accumulation_steps"] = r.GradientAccumulationSteps,
            ["reason"] = r.Reason,
        },
        JobMessage m => new JsonObject { ["event"] = "message", ["text"] = m.Text },
        _ => throw new ArgumentException($"unknown training event {e.GetType().Name}", nameof(e)),
    };
}
