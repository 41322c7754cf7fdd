using System.Globalization;
using System.Text.Json.Nodes;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Core.History;

/// <summary>One row of <c>runs</c>: a run's identity, what it trained on and with, where it stands, and how it ended.</summary>
public sealed record HistoryRun
{
    public required string Id { get; init; }

    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;

    public DateTimeOffset UpdatedAt { get; init; } = DateTimeOffset.UtcNow;

    public RunStatus Status { get; init; } = RunStatus.Running;

    /// <summary>lora, qlora, dora, freeze or full.</summary>
    public string? Method { get; init; }

    /// <summary>The base model's folder (for the built-in model, where it was written).</summary>
    public string? ModelPath { get; init; }

    /// <summary>SHA-256 of the base model's config and weights (<c>CheckpointDigest</c>), when the writer computed it.</summary>
    public string? ModelHash { get; init; }

    /// <summary>SHA-256 of the prepared data's inputs (<c>DatasetCacheKey</c>), when the writer computed it.</summary>
    public string? DatasetHash { get; init; }

    /// <summary>The whole request (<see cref="TrainRequest.ToJson"/>): enough to repeat the run.</summary>
    public required JsonObject Config { get; init; }

    /// <summary>The machine it ran on (the hardware probe's report), when known.</summary>
    public JsonObject? Hardware { get; init; }

    public string? OutputDirectory { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? EndedAt { get; init; }

    public string? Error { get; init; }

    /// <summary>The trainer's summary (<see cref="TrainingSummary.ToJson"/>) once the run finished.</summary>
    public JsonObject? Summary { get; init; }

    /// <summary>A run.json as a history row. run.json records no hashes or hardware; those stay empty.</summary>
    public static HistoryRun FromRecord(RunRecord record, RunStore runs)
    {
        var config = record.Config;
        var model = (string?)config["model"];
        if (model is null && config["built_in_seed"] is JsonValue seed && seed.TryGetValue<int>(out var s))
            model = Path.Combine(runs.Folder, "builtin-models", $"{TrainingJob.BuiltInFamily}-{TrainingJob.BuiltInSize}-seed{s.ToString(CultureInfo.InvariantCulture)}");
        return new HistoryRun
        {
            Id = record.Id,
            CreatedAt = record.CreatedAt,
            UpdatedAt = record.UpdatedAt,
            Status = record.Status,
            Method = (string?)config["method"] ?? (string?)record.Summary?["method"],
            ModelPath = model,
            Config = config,
            OutputDirectory = record.OutputDirectory,
            StartedAt = record.CreatedAt,
            EndedAt = record.Status == RunStatus.Running ? null : record.UpdatedAt,
            Error = record.Error,
            Summary = record.Summary,
        };
    }
}
