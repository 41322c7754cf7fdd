using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Core.Models;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Tests.Datasets;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Core.Tests.Evaluation;

/// <summary>
/// Built once for the evaluator tests: the built-in tiny Qwen3 (random weights, the real tokenizer), a few
/// Alpaca rows, and a LoRA adapter trained on them for 12 steps by the real TrainingJob (recorded as a run).
/// </summary>
public sealed class TinyEvaluationSetup : IDisposable
{
    public TinyEvaluationSetup()
    {
        Directory.CreateDirectory(Folder);
        Plugins = PluginHost.Load(Path.Combine(AppContext.BaseDirectory, "plugins"));
        var tokenizers = Path.Combine(RealTokenizers.RepoRoot, "artifacts", "tokenizers");
        BuiltInModel.Create(Plugins.TemplateNamed("qwen3"), "tiny", ModelDirectory, seed: 3, tokenizers);
        File.WriteAllLines(DataFile, Rows);
        Store = new RunStore(Path.Combine(Folder, "runs"));
        var request = new TrainRequest
        {
            ModelDirectory = ModelDirectory,
            Datasets = [DataFile],
            Method = "lora",
            MethodSettings = new System.Text.Json.Nodes.JsonObject { ["r"] = 8 },
            OutputDirectory = AdapterDirectory,
            Options = new TrainingOptions { LearningRate = 1e-2, MaxSteps = 12, PerDeviceTrainBatchSize = 4, WarmupRatio = 0, SaveSteps = 1000, LrSchedulerType = "constant" },
        };
        // What the job supervisor does, stage by stage, on this thread: plan, prepare the data, train (LoRA: no quantizer).
        var job = new TrainingJob(Store, Plugins, tokenizers);
        using var plan = job.Plan(request, checkpoint: null);
        var data = DatasetPipeline.Prepare(plan.Dataset, plan.Tokenizer, plan.Format, DatasetPipeline.TokenizerFiles(plan.ModelDirectory), null);
        RunId = job.Train(plan, data, checkpoint: null).RunId;
    }

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), $"fta-eval-{Guid.NewGuid():N}");

    public string ModelDirectory => Path.Combine(Folder, "model");

    public string AdapterDirectory => Path.Combine(Folder, "adapter");

    public string DataFile => Path.Combine(Folder, "qa.jsonl");

    public PluginHost Plugins { get; }

    public RunStore Store { get; }

    public string RunId { get; }

    public static readonly string[] Rows =
    [
        """{"instruction": "What is the capital of France?", "output": "Paris"}""",
        """{"instruction": "Name a primary colour.", "output": "Red"}""",
        """{"instruction": "中国最长的河流是哪一条？", "output": "长江"}""",
        """{"instruction": "How many legs does a spider have?", "output": "Eight"}""",
        """{"instruction": "Translate 'thank you' into Chinese.", "output": "谢谢"}""",
        """{"instruction": "What do bees make?", "output": "Honey"}""",
        """{"instruction": "一年有几个季节？", "output": "四个"}""",
        """{"instruction": "What is two plus two?", "output": "Four"}""",
    ];

    public void Dispose()
    {
        Plugins.Dispose();
        if (Directory.Exists(Folder))
            Directory.Delete(Folder, recursive: true);
    }
}
