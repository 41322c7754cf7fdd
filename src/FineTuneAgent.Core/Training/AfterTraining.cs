using System.Text.Json.Nodes;
using FineTuneAgent.Core.Export;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Training;

/// <summary>
/// Evaluation at the end of a run (the evaluator stage): base and tuned model on the run's held-out rows
/// (the validation split, so it needs val_size above 0): loss, perplexity, the forgetting check, and
/// generation on the first <see cref="MaxSamples"/> prompts. Stored with the run (eval.json).
/// </summary>
public sealed record EvaluateAfterTraining
{
    public bool Enabled { get; init; } = true;

    public int MaxSamples { get; init; } = 8;

    public int MaxNewTokens { get; init; } = 32;

    public JsonObject ToJson() => new() { ["enabled"] = Enabled, ["max_samples"] = MaxSamples, ["max_new_tokens"] = MaxNewTokens };

    public static EvaluateAfterTraining FromJson(JsonObject? json) => json is null
        ? new EvaluateAfterTraining()
        : new EvaluateAfterTraining
        {
            Enabled = json["enabled"]?.GetValue<bool>() ?? true,
            MaxSamples = json["max_samples"]?.GetValue<int>() ?? 8,
            MaxNewTokens = json["max_new_tokens"]?.GetValue<int>() ?? 32,
        };
}

/// <summary>Exports at the end of a run (the exporter stage), each into &lt;output&gt;/export-&lt;format&gt;.</summary>
public sealed record ExportAfterTraining(IReadOnlyList<ExportFormat> Formats, ScalarType? DType, string Quant)
{
    public JsonObject ToJson() => new()
    {
        ["formats"] = new JsonArray(Formats.Select(f => (JsonNode?)ExportChoices.Name(f)).ToArray()),
        ["dtype"] = DType is { } d ? ExportChoices.Name(d) : null,
        ["quant"] = Quant,
    };

    public static ExportAfterTraining? FromJson(JsonObject? json) => json is null
        ? null
        : new ExportAfterTraining(
            json["formats"]!.AsArray().Select(n => ExportChoices.Format(n!.GetValue<string>())).ToList(),
            json["dtype"] is JsonValue d ? ExportChoices.DType(d.GetValue<string>()) : null,
            ExportChoices.Quant(json["quant"]?.GetValue<string>() ?? "f16"));
}
