namespace FineTuneAgent.Core.Evaluation;

/// <summary>One held-out prompt's generation: the rendered prompt, the reference, the answer and its scores.</summary>
/// <param name="TimeToFirstTokenMs">From the call to the first generated token: the prompt's prefill plus one step.</param>
public sealed record PredictionRecord(string At, string Prompt, string Reference, string Prediction, int PromptTokens, int NewTokens,
    double TimeToFirstTokenMs, double Seconds, SampleScores Scores);

/// <summary>
/// Generation over the held-out prompts: similarity to the references, throughput (new tokens over the whole
/// generation time, prefill included, one prompt at a time) and mean time to first token.
/// </summary>
public sealed record GenerationMetrics(SimilarityScores Scores, double TokensPerSecond, double TimeToFirstTokenMs, long NewTokens,
    IReadOnlyList<PredictionRecord> Predictions);
