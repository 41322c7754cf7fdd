using System.Text.Json.Nodes;
using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Core.Evaluation;
using FineTuneAgent.Core.Models;
using FineTuneAgent.Core.Tests.Datasets;
using FineTuneAgent.Core.Tests.Training;

namespace FineTuneAgent.Core.Tests.Evaluation;

/// <summary>The evaluator end to end on the built-in tiny Qwen3 and a LoRA adapter trained on the evaluated rows.</summary>
[Collection(GeneratorCollection.Name)]
public class EvaluatorTests(TinyEvaluationSetup setup) : IClassFixture<TinyEvaluationSetup>
{
    private EvaluationRequest Request(string? adapter = null) => new()
    {
        ModelDirectory = setup.ModelDirectory,
        AdapterDirectory = adapter ?? setup.AdapterDirectory,
        DataFile = setup.DataFile,
        MaxNewTokens = 4,
    };

    [Fact]
    public void Run_WithTheAdapterTrainedOnTheRows_LowersTheirLoss_AndReportsBothModelsSideBySide()
    {
        var progress = new List<EvaluationProgress>();
        var live = LiveTensors.Count();
        var result = new Evaluator(setup.Plugins).Run(Request(), new SyncProgress<EvaluationProgress>(progress.Add));
        Assert.Equal(live, LiveTensors.Count()); // the model, its adapter and every step's tensors released

        Assert.Equal("lora", result.Method);
        var tuned = Assert.IsType<ModelEvaluation>(result.Tuned);
        // The adapter trained 12 steps on exactly these rows: their loss must fall (measured with fta on the same setup: 11.92 → 11.05).
        Assert.True(tuned.Validation.Loss < result.Base.Validation.Loss - 0.5, $"held-out loss base {result.Base.Validation.Loss:F3}, tuned {tuned.Validation.Loss:F3}");
        Assert.Equal(Math.Exp(tuned.Validation.Loss), tuned.Validation.Perplexity, 1e-9 * tuned.Validation.Perplexity);
        Assert.Equal(8, result.Base.Validation.Rows);
        Assert.Equal(result.Base.Validation.Tokens, tuned.Validation.Tokens);
        Assert.Equal(result.Base.GeneralText.Tokens, tuned.GeneralText.Tokens);
        Assert.Equal(tuned.GeneralText.Loss - result.Base.GeneralText.Loss, result.ForgettingLossIncrease);

        foreach (var model in new[] { result.Base, tuned })
        {
            Assert.Equal(8, model.Generation.Predictions.Count);
            Assert.Equal(8, model.Generation.Scores.Samples);
            Assert.Equal(8, model.Generation.Scores.ShortAnswers); // one- or two-word answers: exact match applies to all
            Assert.True(model.Generation.TokensPerSecond > 0);
            Assert.All(model.Generation.Predictions, p => Assert.True(p.NewTokens is >= 1 and <= 4 && p.TimeToFirstTokenMs > 0 && p.TimeToFirstTokenMs <= p.Seconds * 1000));
            Assert.All(model.Generation.Predictions, p => Assert.Contains("<|im_start|>assistant\n<think>\n\n</think>\n\n", p.Prompt));
        }
        Assert.Equal(result.Base.Generation.Predictions.Select(p => p.Reference), tuned.Generation.Predictions.Select(p => p.Reference));
        Assert.Equal("Paris", tuned.Generation.Predictions[0].Reference);
        Assert.Contains(progress, p => p.Model == "tuned" && p.Phase == "generation" && p.Done == 8 && p.Total == 8);

        var json = result.ToJson();
        Assert.NotNull(json["base"]!["validation"]!["perplexity"]);
        Assert.NotNull(json["tuned"]!["generation"]!["rouge-l"]);
        Assert.Equal(8, json["tuned"]!["predictions"]!.AsArray().Count);
        Assert.True((double)json["tuned"]!["validation"]!["loss"]! < (double)json["base"]!["validation"]!["loss"]!);

        // Stored with the run: eval.json in its output folder, referenced from run.json.
        var path = RunEvaluation.Save(setup.Store, setup.RunId, result);
        Assert.Equal(Path.Combine(setup.AdapterDirectory, "eval.json"), path);
        Assert.Equal(path, setup.Store.Get(setup.RunId).EvaluationFile);
        Assert.Equal(json["tuned"]!["validation"]!["loss"]!.ToJsonString(), JsonNode.Parse(File.ReadAllText(path))!["tuned"]!["validation"]!["loss"]!.ToJsonString());
    }

    [Fact]
    public void Run_WithoutAdapter_EvaluatesTheBaseAlone_AndMaxSamplesCuts()
    {
        var result = new Evaluator(setup.Plugins).Run(Request() with { AdapterDirectory = null, MaxSamples = 3 });
        Assert.Null(result.Tuned);
        Assert.Null(result.Method);
        Assert.Null(result.ForgettingLossIncrease);
        Assert.Equal(3, result.Base.Validation.Rows);
        Assert.Equal(3, result.Base.Generation.Predictions.Count);
        Assert.Null(result.ToJson()["tuned"]);
    }

    [Fact]
    public void Run_MissingDataFile_NamesIt()
    {
        var missing = Path.Combine(setup.Folder, "nope.jsonl");
        var e = Assert.Throws<DatasetException>(() => new Evaluator(setup.Plugins).Run(Request() with { DataFile = missing }));
        Assert.Contains(missing, e.Message);
        Assert.Contains("not found", e.Message);
    }

    [Fact]
    public void Run_MalformedRow_NamesFileAndLine()
    {
        var bad = Path.Combine(setup.Folder, "bad.jsonl");
        File.WriteAllLines(bad, [TinyEvaluationSetup.Rows[0], TinyEvaluationSetup.Rows[1], """{"instruction": "no answer here"}"""]);
        var e = Assert.Throws<DatasetException>(() => new Evaluator(setup.Plugins).Run(Request() with { DataFile = bad }));
        Assert.Equal(3, e.Line);
        Assert.Equal("output", e.Field);
        Assert.StartsWith(bad + ":3", e.Message);
    }

    [Fact]
    public void Run_AdapterForAnotherModel_SaysSo()
    {
        var llama = Path.Combine(setup.Folder, "llama-tiny");
        if (!Directory.Exists(llama))
            BuiltInModel.Create(setup.Plugins.TemplateNamed("llama"), "tiny", llama, seed: 1, Path.Combine(RealTokenizers.RepoRoot, "artifacts", "tokenizers"));
        var e = Assert.Throws<InvalidDataException>(() => new Evaluator(setup.Plugins).Run(Request() with { ModelDirectory = llama }));
        Assert.Contains("this adapter is for another model", e.Message);
        Assert.Contains(setup.AdapterDirectory, e.Message);
        Assert.Contains("qwen3", e.Message);
        Assert.Contains("llama", e.Message);
    }

    [Fact]
    public void Run_AFolderThatIsNoAdapter_SaysWhatIsMissing()
    {
        var empty = Path.Combine(setup.Folder, "empty-adapter");
        Directory.CreateDirectory(empty);
        var e = Assert.Throws<InvalidDataException>(() => new Evaluator(setup.Plugins).Run(Request(empty)));
        Assert.Contains("adapter_config.json", e.Message);
        Assert.Contains("fta_method.json", e.Message);
    }

    /// <summary>An IProgress that records on the reporting thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
