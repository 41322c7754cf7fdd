using System.Text.Json;
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
        StageStarted st => new JsonObject { ["event"] = "stage", ["stage"] = st.Stage },
        StageProgressed sp => new JsonObject { ["event"] = "stage_progress", ["stage"] = sp.Stage, ["message"] = sp.Message, ["done"] = sp.Done, ["total"] = sp.Total },
        DatasetReady d => Dataset(d),
        QuantizedBaseReady q => new JsonObject
        {
            ["event"] = "quantized_base",
            ["scheme"] = q.Scheme,
            ["tensors"] = q.Tensors,
            ["from_cache"] = q.FromCache,
            ["cache_file"] = q.CacheFile,
            ["cache_problem"] = q.CacheProblem,
        },
        EvaluationReady v => new JsonObject
        {
            ["event"] = "evaluation",
            ["file"] = v.File,
            ["base_loss"] = v.BaseLoss,
            ["tuned_loss"] = v.TunedLoss,
            ["forgetting_increase"] = v.ForgettingIncrease,
            ["base_rouge_l"] = v.BaseRougeL,
            ["tuned_rouge_l"] = v.TunedRougeL,
            ["prompts"] = v.Prompts,
        },
        ExportReady x => new JsonObject { ["event"] = "export", ["format"] = x.Format, ["path"] = x.Path },
        _ => throw new ArgumentException($"unknown training event {e.GetType().Name}", nameof(e)),
    };

    /// <summary>Per file: rows read, bad, dropped by reason (snake_case, with where the first were), truncated, kept and used; then the split.</summary>
    private static JsonObject Dataset(DatasetReady d) => new()
    {
        ["event"] = "dataset",
        ["sources"] = new JsonArray(d.Summary.Sources.Select(s => (JsonNode)new JsonObject
        {
            ["name"] = s.Name,
            ["file"] = s.File,
            ["rows"] = s.Rows,
            ["bad_rows"] = s.BadRows,
            ["dropped"] = new JsonObject(s.Dropped.Select(x => KeyValuePair.Create(JsonNamingPolicy.SnakeCaseLower.ConvertName(x.Reason.ToString()),
                (JsonNode?)new JsonObject { ["count"] = x.Count, ["first_at"] = new JsonArray(x.FirstAt.Select(a => (JsonNode?)a).ToArray()) }))),
            ["truncated"] = s.Truncated,
            ["kept"] = s.Kept,
            ["used"] = s.Used,
        }).ToArray()),
        ["train_examples"] = d.Summary.TrainExamples,
        ["validation_examples"] = d.Summary.ValidationExamples,
        ["train_rows"] = d.Summary.TrainSequences,
        ["validation_rows"] = d.Summary.ValidationSequences,
        ["train_tokens"] = d.Summary.TrainTokens,
        ["train_loss_tokens"] = d.Summary.TrainLossTokens,
        ["cache"] = d.Cache.ToString().ToLowerInvariant(),
        ["warnings"] = new JsonArray(d.Summary.Warnings.Select(w => (JsonNode?)w).ToArray()),
    };
}
