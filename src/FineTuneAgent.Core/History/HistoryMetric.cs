using System.Text.Json.Nodes;

namespace FineTuneAgent.Core.History;

/// <summary>What a metric row measures.</summary>
public enum HistoryMetricKind
{
    /// <summary>A training step: loss, learning rate, gradient norm, tokens/s.</summary>
    Train,

    /// <summary>A validation pass: its loss.</summary>
    Eval,

    /// <summary>A restart after an out-of-memory, at the step that failed.</summary>
    Retry,
}

/// <summary>
/// One row of <c>metrics</c>. The common numbers have columns (so curves and comparisons are plain SQL);
/// everything else the event carried stays in <see cref="Extra"/>.
/// </summary>
public sealed record HistoryMetric(
    int Step,
    HistoryMetricKind Kind,
    double? Loss = null,
    double? LearningRate = null,
    double? GradNorm = null,
    double? TokensPerSecond = null,
    JsonObject? Extra = null)
{
    private static readonly HashSet<string> s_columns = ["event", "step", "loss", "eval_loss", "learning_rate", "grad_norm", "tokens_per_second"];

    /// <summary>
    /// The metric a training event carries, from its JSON (<c>TrainingEventJson.Write</c>, the metrics.jsonl
    /// line): "step" → train, "eval" → eval, "retry" → retry at its failed step; null for the events that are
    /// not metrics (checkpoint, early_stopped, message).
    /// </summary>
    public static HistoryMetric? FromEventJson(JsonObject e)
    {
        ArgumentNullException.ThrowIfNull(e);
        HistoryMetricKind? kind = (string?)e["event"] switch
        {
            "step" => HistoryMetricKind.Train,
            "eval" => HistoryMetricKind.Eval,
            "retry" => HistoryMetricKind.Retry,
            _ => null,
        };
        if (kind is not { } k)
            return null;
        var step = k == HistoryMetricKind.Retry ? Integer(e, "failed_step") : Integer(e, "step");
        if (step is not { } s)
            return null;
        var extra = new JsonObject();
        foreach (var (key, value) in e)
            if (!s_columns.Contains(key) && value is not null)
                extra[key] = value.DeepClone();
        return new HistoryMetric(s, k,
            Loss: Number(e, k == HistoryMetricKind.Eval ? "eval_loss" : "loss"),
            LearningRate: Number(e, "learning_rate"),
            GradNorm: Number(e, "grad_norm"),
            TokensPerSecond: Number(e, "tokens_per_second"),
            Extra: extra.Count > 0 ? extra : null);
    }

    private static double? Number(JsonObject e, string key) =>
        e[key] is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;

    private static int? Integer(JsonObject e, string key) =>
        e[key] is JsonValue v && v.TryGetValue<int>(out var i) ? i : null;
}
