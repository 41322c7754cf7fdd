using System.Diagnostics;
using System.Text.RegularExpressions;
using FineTuneAgent.Modeling.Chat;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Generation;
using FineTuneAgent.Modeling.Layers;
using FineTuneAgent.Modeling.Tokenization;

namespace FineTuneAgent.Core.Evaluation;

/// <summary>
/// Answers held-out prompts with <see cref="Generator"/> and scores them: each prompt rendered with the model's
/// chat format and its generation prompt (Qwen3 with thinking off, so the answer comes first), generated greedily one
/// prompt at a time (so time to first token is one request's latency), decoded without special tokens, and scored
/// by <see cref="SimilarityMetrics"/> against its reference.
/// </summary>
public static partial class GenerationEvaluator
{
    public static ChatRenderOptions PromptOptions { get; } = new() { AddGenerationPrompt = true, EnableThinking = false };

    /// <summary>
    /// Greedy decoding (no repetition penalty: the answer the model ranks first) of at most
    /// <paramref name="maxNewTokens"/>, stopping at generation_config.json's EOS ids and the chat format's end-of-turn tokens.
    /// </summary>
    public static GenerationOptions GreedyOptions(string modelDirectory, ModelConfig config, ITokenizer tokenizer, IChatFormat format, int maxNewTokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNewTokens, 1);
        var defaults = GenerationConfig.Load(modelDirectory, config);
        var endOfTurn = format.EndOfTurnTokens.Select(tokenizer.TokenToId).OfType<int>();
        return defaults with
        {
            MaxNewTokens = maxNewTokens,
            DoSample = false,
            RepetitionPenalty = 1.0,
            EosTokenIds = defaults.EosTokenIds.Concat(endOfTurn).Distinct().ToList(),
        };
    }

    /// <param name="promptsDone">Called after each prompt with the number answered so far.</param>
    public static GenerationMetrics Evaluate(CausalLM model, ITokenizer tokenizer, IChatFormat format, IReadOnlyList<EvaluationPrompt> prompts,
        GenerationOptions options, Action<int>? promptsDone = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        if (prompts.Count == 0)
            throw new ArgumentException("no prompts to generate from", nameof(prompts));
        var records = new List<PredictionRecord>(prompts.Count);
        double totalSeconds = 0, totalFirstMs = 0;
        long totalNew = 0;
        foreach (var prompt in prompts)
        {
            cancellation.ThrowIfCancellationRequested();
            var ids = format.Render(prompt.Prompt, PromptOptions, text => tokenizer.Encode(text, addSpecialTokens: false)).InputIds;
            var clock = Stopwatch.StartNew();
            var firstMs = double.NaN;
            var result = Generator.Generate(model, [ids], options, stepCompleted: step =>
            {
                if (step == 1)
                    firstMs = clock.Elapsed.TotalMilliseconds;
            })[0];
            var seconds = clock.Elapsed.TotalSeconds;
            var prediction = AnswerText(tokenizer.Decode(result.NewTokens, skipSpecialTokens: true));
            records.Add(new PredictionRecord(prompt.At.ToString(), format.RenderText(prompt.Prompt, PromptOptions).ToText(), prompt.Reference,
                prediction, ids.Length, result.NewTokens.Count, firstMs, seconds, SimilarityMetrics.Score(prediction, prompt.Reference)));
            totalSeconds += seconds;
            totalFirstMs += firstMs;
            totalNew += result.NewTokens.Count;
            promptsDone?.Invoke(records.Count);
        }
        return new GenerationMetrics(SimilarityMetrics.Mean(records.Select(r => r.Scores).ToList()),
            totalSeconds > 0 ? totalNew / totalSeconds : 0, totalFirstMs / records.Count, totalNew, records);
    }

    /// <summary>The answer without a leading think block (reasoning is not scored against the reference).</summary>
    public static string AnswerText(string decoded) => ThinkBlock().Replace(decoded, "", 1);

    [GeneratedRegex(@"^\s*<think>.*?</think>\s*", RegexOptions.Singleline)]
    private static partial Regex ThinkBlock();
}
