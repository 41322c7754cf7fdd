using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTuneAgent.Core.Evaluation;

/// <summary>
/// The base model's and (with an adapter) the fine-tuned model's evaluations on the same rows and prompts, side by
/// side. <see cref="ToJson"/> is eval.json and <c>fta eval --json</c>.
/// </summary>
public sealed record EvaluationResult(EvaluationRequest Request, string? Method, ModelEvaluation Base, ModelEvaluation? Tuned, TimeSpan Elapsed)
{
    public const string FileName = "eval.json";

    /// <summary>Tuned minus base loss on the general texts: above 0 the fine-tune forgot some general language.</summary>
    public double? ForgettingLossIncrease => Tuned is null ? null : Tuned.GeneralText.Loss - Base.GeneralText.Loss;

    public JsonObject ToJson() => new()
    {
        ["model"] = Request.ModelDirectory,
        ["adapter"] = Request.AdapterDirectory,
        ["method"] = Method,
        ["data"] = Request.DataFile,
        ["max_samples"] = Request.MaxSamples,
        ["max_new_tokens"] = Request.MaxNewTokens,
        ["general_text"] = Request.GeneralTextFile ?? GeneralTextSet.BundledName,
        ["base"] = Json(Base),
        ["tuned"] = Tuned is null ? null : Json(Tuned),
        ["forgetting"] = ForgettingLossIncrease is { } delta ? new JsonObject { ["general_text_loss_increase"] = delta } : null,
        ["elapsed_seconds"] = Elapsed.TotalSeconds,
    };

    public string ToJsonString(bool indented = true) => ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = indented });

    private static JsonObject Json(ModelEvaluation e) => new()
    {
        ["validation"] = Json(e.Validation),
        ["general_text"] = Json(e.GeneralText),
        ["generation"] = new JsonObject
        {
            ["samples"] = e.Generation.Scores.Samples,
            ["bleu-4"] = e.Generation.Scores.Bleu4,
            ["rouge-1"] = e.Generation.Scores.Rouge1,
            ["rouge-2"] = e.Generation.Scores.Rouge2,
            ["rouge-l"] = e.Generation.Scores.RougeL,
            ["exact_match"] = e.Generation.Scores.ExactMatch,
            ["exact_match_samples"] = e.Generation.Scores.ShortAnswers,
            ["new_tokens"] = e.Generation.NewTokens,
            ["tokens_per_second"] = e.Generation.TokensPerSecond,
            ["time_to_first_token_ms"] = Finite(e.Generation.TimeToFirstTokenMs),
        },
        ["predictions"] = new JsonArray(e.Generation.Predictions.Select(p => (JsonNode)new JsonObject
        {
            ["at"] = p.At,
            ["prompt"] = p.Prompt,
            ["reference"] = p.Reference,
            ["prediction"] = p.Prediction,
            ["prompt_tokens"] = p.PromptTokens,
            ["new_tokens"] = p.NewTokens,
            ["time_to_first_token_ms"] = Finite(p.TimeToFirstTokenMs),
            ["seconds"] = p.Seconds,
            ["bleu-4"] = p.Scores.Bleu4,
            ["rouge-1"] = p.Scores.Rouge1,
            ["rouge-2"] = p.Scores.Rouge2,
            ["rouge-l"] = p.Scores.RougeL,
            ["exact_match"] = p.Scores.ExactMatch,
        }).ToArray()),
    };

    private static JsonObject Json(LossMetrics m) => new()
    {
        ["loss"] = Finite(m.Loss),
        ["perplexity"] = Finite(m.Perplexity),
        ["tokens"] = m.Tokens,
        ["rows"] = m.Rows,
    };

    /// <summary>JSON has no infinity or NaN (an overflowing perplexity, no first token): those are written as null.</summary>
    private static JsonNode? Finite(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;
}
