using System.Text.Json.Nodes;
namespace FineTuneAgent.Core.Recommendation;

/// <summary>
/// The recommender's answer: the chosen plan (null when nothing fits), the other methods that also
/// fit, each method's smallest configuration when it does not, and the reasons in words with the numbers.
/// </summary>
public sealed record Recommendation
{
    public required string Model { get; init; }

    public required MemoryBudget Budget { get; init; }

    public required TrainingPlan? Chosen { get; init; }

    /// <summary>Other methods that fit, best quality first.</summary>
    public required IReadOnlyList<TrainingPlan> Alternatives { get; init; }

    /// <summary>Methods that do not fit, each in its leanest configuration (checkpointing, micro-batch 1).</summary>
    public required IReadOnlyList<TrainingPlan> DoesNotFit { get; init; }

    public required IReadOnlyList<string> Reasons { get; init; }

    private static JsonObject Plan(TrainingPlan p) => new()
    {
        ["label"] = p.Label,
        ["method"] = p.Method,
        ["settings"] = p.Settings.DeepClone(),
        ["fits"] = p.Fits,
        ["per_device_train_batch_size"] = p.MicroBatchSize,
        ["gradient_accumulation_steps"] = p.GradientAccumulationSteps,
        ["gradient_checkpointing"] = p.GradientCheckpointing,
        ["cutoff_len"] = p.CutoffLength,
        ["estimate_bytes"] = p.Estimate.TotalBytes,
        ["components"] = new JsonObject(p.Estimate.Components.Select(c => KeyValuePair.Create(c.Component, (JsonNode?)c.Bytes))),
    };

    /// <summary>As `fta recommend --json` prints it and the agent's API answers.</summary>
    public JsonObject ToJson() => ToJson(this);

    private static JsonObject ToJson(Recommendation r) => new()
    {
        ["model"] = r.Model,
        ["device"] = r.Budget.Device,
        ["free_bytes"] = r.Budget.FreeBytes,
        ["usable_bytes"] = r.Budget.UsableBytes,
        ["chosen"] = r.Chosen is null ? null : Plan(r.Chosen),
        ["alternatives"] = new JsonArray(r.Alternatives.Select(p => (JsonNode)Plan(p)).ToArray()),
        ["does_not_fit"] = new JsonArray(r.DoesNotFit.Select(p => (JsonNode)Plan(p)).ToArray()),
        ["reasons"] = new JsonArray(r.Reasons.Select(s => (JsonNode)s).ToArray()),
    };
}
