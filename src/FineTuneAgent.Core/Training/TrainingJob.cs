using System.Diagnostics;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Core.Models;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Modeling.Chat;
using FineTuneAgent.Modeling.Checkpoints;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Tokenization;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Training;

/// <summary>
/// One run from a <see cref="TrainRequest"/> to a trained output folder, recorded in a <see cref="RunStore"/>:
/// resolve the model (the built-in tiny Qwen3 when none is given), lease the template and method plugins,
/// prepare the data, adapt (or load a checkpoint's adapter to resume), train, and record status, metrics
/// and checkpoints. The actor wiring (TrainerStage under a JobSupervisor) calls this.
/// </summary>
public sealed class TrainingJob(RunStore store, PluginHost plugins, string? tokenizersFolder = null)
{
    /// <summary>Where this job records its runs.</summary>
    public RunStore Store => store;

    /// <summary>Test hook: sees every <see cref="Trainer"/> and its cancellation token before it trains (to inject an out-of-memory or a NaN).</summary>
    internal Action<Trainer, CancellationToken>? ConfigureTrainer { get; init; }

    public const string BuiltInFamily = "qwen3";
    public const string BuiltInSize = "tiny";

    /// <summary>The method a name stands for; "auto" picks LoRA until the recommender lands, and says so.</summary>
    public static (string Method, string? Note) ResolveMethod(string requested) => requested switch
    {
        "auto" => ("lora", "--method auto picked lora (the hardware-aware recommender comes later; LoRA fits every machine this runs on)"),
        _ => (requested, null),
    };

    /// <summary>Trains a new run.</summary>
    public TrainingSummary Run(TrainRequest request, IProgress<TrainingEvent>? progress = null, CancellationToken cancellation = default) =>
        Execute(request, checkpoint: null, progress, cancellation);

    /// <summary>
    /// Continues a run from its last checkpoint: <paramref name="runOrDirectory"/> is a run id in the store,
    /// a checkpoint folder, or an output folder holding checkpoints.
    /// </summary>
    public TrainingSummary Resume(string runOrDirectory, IProgress<TrainingEvent>? progress = null, CancellationToken cancellation = default)
    {
        var (request, checkpoint) = ResolveResume(runOrDirectory);
        return Execute(request, checkpoint, progress, cancellation);
    }

    /// <summary>
    /// Continues <paramref name="request"/>'s run from <paramref name="checkpoint"/> with the request as given
    /// (a supervisor's retry after an out-of-memory passes the halved micro-batch here; the effective batch
    /// must stay the checkpoint's). The run record's configuration becomes this request.
    /// </summary>
    public TrainingSummary ResumeFrom(TrainRequest request, string checkpoint, IProgress<TrainingEvent>? progress = null, CancellationToken cancellation = default) =>
        Execute(request, checkpoint, progress, cancellation);

    /// <summary>
    /// What <see cref="Resume"/> would continue: the run's request and its last complete checkpoint, for a
    /// run id in the store, a checkpoint folder, or an output folder holding checkpoints.
    /// </summary>
    public (TrainRequest Request, string Checkpoint) ResolveResume(string runOrDirectory)
    {
        string? checkpoint;
        TrainRequest request;
        if (Directory.Exists(runOrDirectory))
        {
            checkpoint = CheckpointFolder.IsCheckpoint(runOrDirectory) ? runOrDirectory : CheckpointFolder.Latest(runOrDirectory)
                ?? throw new FileNotFoundException($"{runOrDirectory} holds no complete checkpoint (checkpoint-<step>/ with {TrainerState.FileName})");
            request = TrainRequest.Read(Path.Combine(checkpoint, TrainRequest.FileName));
        }
        else if (store.Exists(runOrDirectory))
        {
            var record = store.Get(runOrDirectory);
            request = TrainRequest.FromJson(record.Config, Path.Combine(store.RunFolder(record.Id), RunStore.RecordFileName));
            checkpoint = CheckpointFolder.Latest(request.OutputDirectory)
                ?? throw new FileNotFoundException($"run {runOrDirectory} has no complete checkpoint in {request.OutputDirectory} to resume from");
        }
        else
        {
            throw new KeyNotFoundException($"--resume {runOrDirectory}: neither a folder nor a run in {store.Folder}");
        }
        return (request, checkpoint);
    }

    private TrainingSummary Execute(TrainRequest request, string? checkpoint, IProgress<TrainingEvent>? progress, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        CpuAllocator.RetainFreedMemory();
        var record = store.Exists(request.RunId)
            ? store.Save(store.Get(request.RunId) with { Status = RunStatus.Running, Error = null, Config = request.ToJson() })
            : store.Create(request.RunId, request.ToJson(), Path.GetFullPath(request.OutputDirectory));
        if (checkpoint is not null)
            store.TruncateMetricsAfter(record.Id, TrainerState.Read(checkpoint).GlobalStep);
        var sink = new RecordingProgress(store, record.Id, progress);
        void Say(string text) => sink.Report(new JobMessage(text));
        try
        {
            if (request.MethodNote is { } note)
                Say(note);
            Say(checkpoint is null ? $"run {record.Id}" : $"run {record.Id}: resuming from {checkpoint}");
            var modelDir = request.ModelDirectory ?? EnsureBuiltInModel(request.BuiltInSeed, Say);
            var config = ModelConfigReader.Load(Path.Combine(modelDir, Checkpoint.ConfigFileName));
            using var templateLease = request.Template is { } name ? plugins.AcquireTemplate(name) : plugins.AcquireTemplateFor(config.ModelType);
            using var methodLease = plugins.AcquireMethod(request.Method);
            var template = templateLease.Instance;
            var method = methodLease.Instance;
            var format = ChatFormats.Get(template.ChatFormatFor(config));
            var tokenizer = Tokenizer.FromDirectory(modelDir);
            var options = request.Options.ResolvedFor(method.Name);

            var data = DatasetPipeline.Prepare(DatasetRequestFor(request, options), tokenizer, format, DatasetPipeline.TokenizerFiles(modelDir), Say);
            Say($"data: {data.Train.Count} training rows ({data.Summary.TrainTokens:N0} tokens), {data.Validation.Count} validation rows; chat format {format.Name}");

            manual_seed(options.Seed);
            using var model = template.BuildModel(config, ScalarType.Float32, initialize: false);
            Checkpoint.LoadWeights(model, modelDir);
            var adapted = checkpoint is null
                ? method.Adapt(model, template, method.ParseSettings(request.MethodSettings))
                : method.Load(model, template, checkpoint);
            var trainable = adapted.TrainableParameters.Sum(p => p.Parameter.numel());
            Say($"model: {template.Name} from {modelDir}, {config.ParameterCount():N0} parameters; {method.Name} trains {trainable:N0}; learning_rate {options.LearningRate:G3}");

            var trainer = new Trainer(adapted, options, data.Train, data.Validation, request.OutputDirectory, new AdapterSaveOptions(modelDir), tokenizer.PadTokenId ?? config.PadTokenId ?? 0)
            {
                CheckpointFiles = new Dictionary<string, string> { [TrainRequest.FileName] = request.ToJson().ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) },
            };
            ConfigureTrainer?.Invoke(trainer, cancellation);
            var result = trainer.Train(sink, checkpoint, cancellation);

            var metrics = store.Metrics(record.Id);
            var trainLosses = metrics.Where(m => (string?)m["event"] == "step").Select(m => (double)m["loss"]!).ToList();
            var evalLosses = metrics.Where(m => (string?)m["event"] == "eval").Select(m => (double)m["eval_loss"]!).ToList();
            var summary = new TrainingSummary(record.Id, method.Name, request.MethodNote, result.Steps, result.TotalSteps,
                trainLosses.Count > 0 ? trainLosses[0] : null, trainLosses.Count > 0 ? trainLosses[^1] : null,
                evalLosses.Count > 0 ? evalLosses[0] : null, evalLosses.Count > 0 ? evalLosses[^1] : null,
                result.BestValidationLoss, result.StoppedEarly, data.Train.Count, data.Validation.Count,
                result.OutputDirectory, result.LastCheckpoint, clock.Elapsed);
            store.Save(store.Get(record.Id) with { Status = RunStatus.Completed, Summary = summary.ToJson() });
            return summary;
        }
        catch (OperationCanceledException)
        {
            store.Save(store.Get(record.Id) with { Status = RunStatus.Cancelled, Error = "cancelled" });
            throw;
        }
        catch (Exception e)
        {
            store.Save(store.Get(record.Id) with { Status = RunStatus.Failed, Error = $"{e.GetType().Name}: {e.Message}" });
            throw;
        }
    }

    /// <summary>The built-in tiny Qwen3 with random weights from the seed, written once under the store.</summary>
    private string EnsureBuiltInModel(int seed, Action<string> say)
    {
        var folder = Path.Combine(store.Folder, "builtin-models", $"{BuiltInFamily}-{BuiltInSize}-seed{seed}");
        if (File.Exists(Path.Combine(folder, Checkpoint.ConfigFileName)))
            return folder;
        var template = plugins.TemplateNamed(BuiltInFamily);
        say($"model: writing the built-in {BuiltInFamily} {BuiltInSize} (random weights, seed {seed}) to {folder}");
        CheckpointFolder.WriteAtomically(folder, dir => BuiltInModel.Create(template, BuiltInSize, dir, seed, tokenizersFolder));
        return folder;
    }

    private static DatasetRequest DatasetRequestFor(TrainRequest request, TrainingOptions options)
    {
        var infoFolder = request.DatasetDirectory ?? SampleData.DefaultFolder;
        var infoFile = Path.Combine(infoFolder, "dataset_info.json");
        var descriptions = new List<DatasetDescription>();
        if (request.Datasets.Count == 0)
            descriptions.AddRange(DatasetInfoFile.Load(infoFile).Values);
        foreach (var d in request.Datasets)
        {
            if (File.Exists(d) && Path.GetFileName(d) == "dataset_info.json")
                descriptions.AddRange(DatasetInfoFile.Load(d).Values);
            else if (File.Exists(d))
                descriptions.Add(DatasetDescription.Alpaca(Path.GetFullPath(d)));
            else
                descriptions.Add(DatasetInfoFile.Get(infoFile, d));
        }
        return new DatasetRequest(descriptions.Select(x => new DatasetSource(x)).ToArray())
        {
            CutoffLength = options.CutoffLen,
            ValSize = options.ValSize,
            Packing = options.Packing,
            Seed = options.Seed,
        };
    }

    /// <summary>Forwards events and records them: every event as a metrics line, checkpoints in run.json.</summary>
    private sealed class RecordingProgress(RunStore store, string id, IProgress<TrainingEvent>? next) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value)
        {
            if (value is not JobMessage)
                store.AppendMetric(id, TrainingEventJson.Write(value));
            if (value is CheckpointSaved saved)
            {
                var record = store.Get(id);
                store.Save(record with { Checkpoints = record.Checkpoints.Where(c => c != saved.Path).Append(saved.Path).ToList() });
            }
            next?.Report(value);
        }
    }
}
