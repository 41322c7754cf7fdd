using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using FineTuneAgent.Actors;
using FineTuneAgent.Agent.Stages;
using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Core.Quantization;
using FineTuneAgent.Modeling.Adapters;
using FineTuneAgent.Modeling.Chat;
using FineTuneAgent.Modeling.Checkpoints;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Layers;
using FineTuneAgent.Modeling.Quantization;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Agent.Tests;

/// <summary>The dataset and quantizer stages as actors: work off the mailbox, progress to the requester, failures as Status.Failure.</summary>
public sealed class StageTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2); // only so a bug cannot hang the run
    private readonly ActorSystem _system = ActorSystem.Create("stages");
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"fta-stages-{Guid.NewGuid():N}");

    public void Dispose()
    {
        _system.Dispose();
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Collects what a stage tells its requester.</summary>
    private sealed class Requester : ReceiveActor
    {
        public Requester(IActorRef stage, object request, ConcurrentQueue<StageProgress> progress, TaskCompletionSource<object> answer)
        {
            Receive<StageProgress>(progress.Enqueue);
            ReceiveAny(m => answer.TrySetResult(m));
            stage.Tell(request, Self);
        }
    }

    private async Task<(object Answer, List<StageProgress> Progress)> Run(IActorRef stage, object request)
    {
        var progress = new ConcurrentQueue<StageProgress>();
        var answer = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        _system.ActorOf(Props.Create(() => new Requester(stage, request, progress, answer)));
        var result = await answer.Task.WaitAsync(Patience);
        return (result, progress.ToList());
    }

    [Fact]
    public async Task DatasetStage_PreparesTheSampleData_ReportingProgress()
    {
        var stage = _system.ActorOf(Props.Create<DatasetStage>(), "dataset");
        var sample = Path.Combine(Repo.Root(), "data", "sample", "alpaca_en.jsonl");
        var request = new PrepareDataset(new DatasetRequest([new DatasetSource(new DatasetDescription(sample))]) { CutoffLength = 256, ValSize = 0.1 },
            Path.Combine(Repo.Root(), "artifacts", "tokenizers", "qwen3"), ChatFormats.Qwen3);
        var (answer, progress) = await Run(stage, request);
        var prepared = Assert.IsType<DatasetPrepared>(answer).Dataset;
        Assert.True(prepared.Train.Count > 50);
        Assert.NotEmpty(prepared.Validation);
        Assert.NotEmpty(progress);
        Assert.All(progress, p => Assert.Equal("dataset", p.Stage));
    }

    [Fact]
    public async Task DatasetStage_ABadFile_AnswersAFailureNamingFileAndLine()
    {
        Directory.CreateDirectory(_dir);
        var bad = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllText(bad, "{\"instruction\": \"hi\", \"output\": \"hello\"}\n{\"instruction\": \"oops\", \n");
        var stage = _system.ActorOf(Props.Create<DatasetStage>());
        var request = new PrepareDataset(new DatasetRequest([new DatasetSource(new DatasetDescription(bad))]),
            Path.Combine(Repo.Root(), "artifacts", "tokenizers", "qwen3"), ChatFormats.Qwen3);
        var (answer, _) = await Run(stage, request);
        var failure = Assert.IsType<Status.Failure>(answer);
        var e = Assert.IsType<DatasetException>(failure.Cause);
        Assert.Contains("bad.jsonl:2", e.Message);
    }

    [Fact]
    public async Task QuantizerStage_ReportsEachTensor_AndReadsTheCacheTheSecondTime()
    {
        var modelDir = Path.Combine(_dir, "model");
        var json = new JsonObject
        {
            ["model_type"] = "qwen3", ["vocab_size"] = 40, ["hidden_size"] = 64, ["intermediate_size"] = 64, ["num_hidden_layers"] = 2,
            ["num_attention_heads"] = 4, ["num_key_value_heads"] = 2, ["head_dim"] = 16, ["max_position_embeddings"] = 64,
            ["rms_norm_eps"] = 1e-6, ["rope_theta"] = 10000.0, ["tie_word_embeddings"] = true, ["torch_dtype"] = "float32",
        };
        manual_seed(1);
        using (var model = new CausalLM(ModelConfigReader.Parse(json, "config.json")))
            Checkpoint.Save(model, modelDir);
        var stage = _system.ActorOf(Props.Create<QuantizerStage>());
        var request = new QuantizeBase(modelDir, QuantizationScheme.Nf4, Path.Combine(_dir, "cache"));

        var (answer, progress) = await Run(stage, request);
        var first = Assert.IsType<BaseQuantized>(answer).Cache;
        Assert.False(first.FromCache);
        Assert.Equal(14, first.Tensors);
        Assert.True(File.Exists(first.CacheFile));
        Assert.Equal(14, progress.Count);
        Assert.Equal(Enumerable.Range(1, 14), progress.Select(p => p.Done));
        Assert.All(progress, p => Assert.StartsWith("quantized ", p.Message));
        // The cache holds the projections: loading through it quantizes nothing.
        var loaded = QuantizedBase.Load(modelDir, QuantizationScheme.Nf4, cacheDir: request.CacheDirectory);
        using (loaded.Model)
        {
            Assert.True(loaded.FromCache);
            Assert.All(ProjectionSlot.Of(loaded.Model), s => Assert.IsType<Nf4Linear>(s.Module));
        }

        (answer, progress) = await Run(stage, request);
        var second = Assert.IsType<BaseQuantized>(answer).Cache;
        Assert.True(second.FromCache);
        Assert.Equal(first.CacheFile, second.CacheFile);
        Assert.Equal(14, progress.Count);
        Assert.All(progress, p => Assert.StartsWith("read ", p.Message));
    }

    [Fact]
    public async Task QuantizerStage_AMissingCheckpoint_AnswersAFailure()
    {
        var stage = _system.ActorOf(Props.Create<QuantizerStage>());
        var (answer, _) = await Run(stage, new QuantizeBase(Path.Combine(_dir, "nowhere"), QuantizationScheme.Nf4, Path.Combine(_dir, "cache")));
        var failure = Assert.IsType<Status.Failure>(answer);
        Assert.Contains("nowhere", failure.Cause.Message);
    }
}
