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

    /// <summary>The summary back from <see cref="ToJson"/> (a remote agent's run outcome); a missing or mistyped field is named.</summary>
    public static TrainingSummary FromJson(JsonObject json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            return new TrainingSummary(
                Required<string>(json, "run_id"), Required<string>(json, "method"), (string?)json["method_note"],
                Required<int>(json, "steps"), Required<int>(json, "total_steps"),
                (double?)json["first_train_loss"], (double?)json["last_train_loss"], (double?)json["first_eval_loss"],
                (double?)json["last_eval_loss"], (double?)json["best_eval_loss"], (bool?)json["stopped_early"] ?? false,
                Required<int>(json, "train_rows"), Required<int>(json, "eval_rows"), Required<string>(json, "output_dir"),
                (string?)json["last_checkpoint"], TimeSpan.FromSeconds((double?)json["elapsed_seconds"] ?? 0));
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{source}: malformed training summary: {e.Message}", e);
        }

        static T Required<T>(JsonObject o, string key) =>
            o[key] is JsonValue v ? v.GetValue<T>() : throw new InvalidOperationException($"missing \"{key}\"");
    }
}
