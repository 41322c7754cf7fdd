using System.Text.Json;
using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Core.Evaluation;
using FineTuneAgent.Core.Tests.Datasets;
using FineTuneAgent.Core.Tests.Training;
using FineTuneAgent.Core.Training;
using FineTuneAgent.Modeling.Checkpoints;
using FineTuneAgent.Modeling.Layers;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Tests.Evaluation;

/// <summary>Held-out loss and perplexity against tests/compat/reference_model.py (plain PyTorch), and the general-text set.</summary>
[Collection(GeneratorCollection.Name)]
public class LossEvaluatorTests
{
    [Fact]
    public void Perplexity_IsExpOfTheMeanTokenLoss_AsThePlainPyTorchReferenceComputesIt()
    {
        using var folder = new TempFolder();
        manual_seed(11);
        using var model = new CausalLM(TinyTraining.Config);
        Checkpoint.Save(model, folder.Path);
        var rows = TinyTraining.Rows(5, seed: 3); // lengths 9..13, the first two tokens of each without loss
        const int pad = 0;

        // Batches of 2 (so rows are padded within a batch) here; the reference takes all five rows in one padded
        // batch, and its cross_entropy mean over every label token is the same token-weighted mean.
        var live = LiveTensors.Count();
        var metrics = LossEvaluator.Evaluate(model, rows, pad, batchSize: 2);
        Assert.Equal(live, LiveTensors.Count()); // every batch's tensors released

        var width = rows.Max(r => r.Length);
        long[][] ids = rows.Select(r => r.InputIds.Select(i => (long)i).Concat(Enumerable.Repeat((long)pad, width - r.Length)).ToArray()).ToArray();
        long[][] mask = rows.Select(r => Enumerable.Repeat(1L, r.Length).Concat(Enumerable.Repeat(0L, width - r.Length)).ToArray()).ToArray();
        long[][] labels = rows.Select(r => r.Labels.Select(l => (long)l).Concat(Enumerable.Repeat(-100L, width - r.Length)).ToArray()).ToArray();
        var referenceLoss = ReferenceLoss(folder.Path, ids, mask, labels);

        Assert.Equal(rows.Sum(TrainingBatch.CountLabelTokens), metrics.Tokens);
        Assert.Equal(5, metrics.Rows);
        Assert.Equal(referenceLoss, metrics.Loss, 4);
        Assert.Equal(Math.Exp(referenceLoss), metrics.Perplexity, 1e-4 * Math.Exp(referenceLoss));
        Assert.InRange(metrics.Loss, 3.0, 6.0); // a random model over 67 tokens: near ln 67 ≈ 4.2, not a degenerate 0
    }

    [Fact]
    public void Evaluate_RowsWithoutLossTokens_IsAnError()
    {
        manual_seed(1);
        using var model = new CausalLM(TinyTraining.Config);
        var noLoss = new TrainingSequence([1, 2, 3], [-100, -100, -100], [0]);
        var e = Assert.Throws<ArgumentException>(() => LossEvaluator.Evaluate(model, [noLoss], 0));
        Assert.Contains("none of the 1 rows", e.Message);
    }

    [Fact]
    public void GeneralTextSet_Bundled_HoldsEnglishAndChinese_AndEveryTokenCarriesLoss()
    {
        var texts = GeneralTextSet.Load();
        Assert.True(texts.Count >= 10);
        Assert.Contains(texts, t => t.Contains("bicycle", StringComparison.Ordinal));
        Assert.Contains(texts, t => t.Any(c => TextSegmenter.IsCjk(c)));
        var rows = GeneralTextSet.Tokenize(texts, RealTokenizers.Qwen3, cutoffLength: 32);
        Assert.Equal(texts.Count, rows.Count);
        Assert.All(rows, r => Assert.Equal(r.InputIds, r.Labels));
        Assert.Contains(rows, r => r.Length == 32); // long paragraphs are cut at cutoff_len
    }

    [Fact]
    public void GeneralTextSet_ABadLine_IsNamed()
    {
        using var folder = new TempFolder();
        Directory.CreateDirectory(folder.Path);
        var path = Path.Combine(folder.Path, "general.jsonl");
        File.WriteAllText(path, "{\"text\": \"fine\"}\n\n{\"txt\": \"typo\"}\n");
        var e = Assert.Throws<DatasetException>(() => GeneralTextSet.Load(path));
        Assert.Equal(3, e.Line);
        Assert.Equal("text", e.Field);
        Assert.StartsWith($"{path}:3", e.Message);
        Assert.Throws<DatasetException>(() => GeneralTextSet.Load(Path.Combine(folder.Path, "missing.jsonl")));
    }

    private static double ReferenceLoss(string modelDir, long[][] ids, long[][] mask, long[][] labels)
    {
        var work = Path.Combine(Path.GetTempPath(), $"fta-ppl-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            var input = Path.Combine(work, "input.json");
            var output = Path.Combine(work, "output.bin");
            File.WriteAllText(input, JsonSerializer.Serialize(new { input_ids = ids, attention_mask = mask, labels }));
            CompatPython.Run("reference_model.py", modelDir, input, output);
            var bytes = File.ReadAllBytes(output);
            return BitConverter.ToSingle(bytes, bytes.Length - 4); // the loss follows the logits
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
