using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace FineTuneAgent.Core.Training;

/// <summary>run.json: one run's identity, full configuration, status, checkpoints and summary.</summary>
public sealed record RunRecord
{
    [JsonPropertyName("id")] public required string Id { get; init; }

    [JsonPropertyName("status")] public RunStatus Status { get; init; }

    [JsonPropertyName("created_at")] public DateTimeOffset CreatedAt { get; init; }

    [JsonPropertyName("updated_at")] public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The whole <see cref="TrainRequest"/> as JSON: enough to resume with nothing else.</summary>
    [JsonPropertyName("config")] public required JsonObject Config { get; init; }

    [JsonPropertyName("output_dir")] public required string OutputDirectory { get; init; }

    [JsonPropertyName("checkpoints")] public IReadOnlyList<string> Checkpoints { get; init; } = [];

    /// <summary>Restarts after an out-of-memory, oldest first (<see cref="TrainingEventJson"/>'s "retry" objects).</summary>
    [JsonPropertyName("retries")] public IReadOnlyList<JsonObject> Retries { get; init; } = [];

    [JsonPropertyName("error")] public string? Error { get; init; }

    [JsonPropertyName("summary")] public JsonObject? Summary { get; init; }

    /// <summary>The run's evaluation results (eval.json in the output folder), once evaluated (<c>fta eval --run</c>).</summary>
    [JsonPropertyName("eval")] public string? EvaluationFile { get; init; }
}
