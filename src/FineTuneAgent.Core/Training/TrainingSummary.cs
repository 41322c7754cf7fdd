using System.Text.Json.Nodes;

namespace FineTuneAgent.Core.Training;

/// <summary>A finished run in one object (over the whole run, resumed sessions included).</summary>
public sealed record TrainingSummary(
    string RunId,
    string Method,
    string? MethodNote,
    int Steps,
    int TotalSteps,
    double? FirstTrainLoss,
    double? LastTrainLoss,
    double? FirstValidationLoss,
    double? LastValidationLoss,
    double? BestValidationLoss,
    bool StoppedEarly,
    int TrainRows,
    int ValidationRows,
    string OutputDirectory,
    string? LastCheckpoint,
    TimeSpan Elapsed)
{
    public JsonObject ToJson() => new()
    {
        ["event"] = "summary",
        ["run_id"] = RunId,
        ["method"] = Method,
        ["method_note"] = MethodNote,
        ["steps"] = Steps,
        ["total_steps"] = TotalSteps,
        ["first_train_loss"] = FirstTrainLoss,
        ["last_train_loss"] = LastTrainLoss,
        ["first_eval_loss"] = FirstValidationLoss,
        ["last_eval_loss"] = LastValidationLoss,
        ["best_eval_loss"] = BestValidationLoss,
        ["stopped_early"] = StoppedEarly,
        ["train_rows"] = TrainRows,
        ["eval_rows"] = ValidationRows,
        ["output_dir"] = OutputDirectory,
        ["last_checkpoint"] = LastCheckpoint,
        ["elapsed_seconds"] = Math.Round(Elapsed.TotalSeconds, 2),
    };
}
