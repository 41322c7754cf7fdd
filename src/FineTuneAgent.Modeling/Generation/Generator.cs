using FineTuneAgent.Modeling.Layers;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Generation;

/// <summary>
/// Continues a batch of prompts with a causal LM: prompts left-padded together, keys and values
/// cached between steps (or the whole sequence recomputed), scores processed per row as HF
/// generate() does, rows stopping on EOS, on a stop string or at the length limit.
/// </summary>
public static class Generator
{
    /// <param name="decode">Turns a row's new ids into text; needed only for stop strings.</param>
    /// <param name="stepCompleted">Called on the generating thread after each step has picked every row's next
    /// token, with the number of steps done (1 after the first token: what time-to-first-token measures).</param>
    public static IReadOnlyList<GenerationResult> Generate(CausalLM model, IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions options,
        Func<IReadOnlyList<int>, string>? decode = null, Action<int>? stepCompleted = null)
    {
        options.Validate();
        if (prompts.Count == 0)
            return [];
        if (prompts.Any(p => p.Count == 0))
            throw new ArgumentException("every prompt needs at least one token", nameof(prompts));
        if (options.StopStrings.Count > 0 && decode is null)
            throw new ArgumentException("stop strings need a decode function", nameof(decode));

        var batch = prompts.Count;
        var pad = options.PadTokenId ?? (options.EosTokenIds.Count > 0 ? options.EosTokenIds[0] : 0);
        var width = prompts.Max(p => p.Count);
        var rows = prompts.Select(p => Enumerable.Repeat(pad, width - p.Count).Concat(p).ToList()).ToList();
        var maskRows = prompts.Select(p => Enumerable.Repeat(0L, width - p.Count).Concat(Enumerable.Repeat(1L, p.Count)).ToList()).ToList();
        var generated = prompts.Select(_ => new List<int>()).ToList();
        var reasons = new FinishReason?[batch];
        var random = new Random(options.Seed);
        var eos = options.EosTokenIds.ToHashSet();

        var wasTraining = model.training;
        model.eval();
        using var noGrad = no_grad();
        using var cache = options.UseCache ? new KvCache(model.Config.NumHiddenLayers) : null;
        try
        {
            for (var step = 0; step < options.MaxNewTokens && reasons.Any(r => r is null); step++)
            {
                float[][] scores;
                using (var scope = NewDisposeScope())
                {
                    var fresh = cache is null || step == 0;
                    var input = fresh ? Ids(rows) : Ids(rows.Select(r => new List<int> { r[^1] }).ToList());
                    var mask = tensor(maskRows.SelectMany(m => m).ToArray(), [batch, maskRows[0].Count]);
                    var logits = model.forward(input, mask, cache);
                    var last = logits.select(1, -1).to_type(ScalarType.Float32).contiguous();
                    var flat = last.data<float>();
                    var vocab = (int)last.size(1);
                    scores = Enumerable.Range(0, batch).Select(b => flat.AsSpan(b * vocab, vocab).ToArray()).ToArray();
                }
                for (var b = 0; b < batch; b++)
                {
                    int next;
                    if (reasons[b] is not null)
                    {
                        next = pad;
                    }
                    else
                    {
                        var row = scores[b];
                        LogitsProcessor.RepetitionPenalty(row, prompts[b].Concat(generated[b]), options.RepetitionPenalty);
                        if (options.DoSample)
                        {
                            LogitsProcessor.Temperature(row, options.Temperature);
                            LogitsProcessor.TopK(row, options.TopK);
                            LogitsProcessor.TopP(row, options.TopP);
                            next = LogitsProcessor.Sample(row, random);
                        }
                        else
                        {
                            next = LogitsProcessor.Argmax(row);
                        }
                        generated[b].Add(next);
                        if (eos.Contains(next))
                            reasons[b] = FinishReason.EndOfSequence;
                        else if (options.StopStrings.Count > 0 && options.StopStrings.Any(decode!(generated[b]).Contains))
                            reasons[b] = FinishReason.StopString;
                    }
                    rows[b].Add(next);
                    maskRows[b].Add(1);
                }
                stepCompleted?.Invoke(step + 1);
            }
        }
        finally
        {
            model.train(wasTraining);
        }
        return generated.Select((g, b) => new GenerationResult(g, reasons[b] ?? FinishReason.Length)).ToList();
    }

    private static Tensor Ids(List<List<int>> rows) =>
        tensor(rows.SelectMany(r => r.Select(i => (long)i)).ToArray(), [rows.Count, rows[0].Count]);
}
