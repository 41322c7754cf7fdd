using System.Diagnostics;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Core.Models;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Quantization;
using FineTuneAgent.Abstractions.Templates;
using FineTuneAgent.Modeling.Layers;
using FineTuneAgent.Modeling.Chat;
using FineTuneAgent.Modeling.Checkpoints;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Tokenization;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Training;

/// <summary>
/// The steps of one run from a <see cref="TrainRequest"/> to a trained output folder, recorded in a
/// <see cref="RunStore"/>, each callable on its own so that the job supervisor can run them as stages:
/// <list type="number">
/// <item><see cref="Plan"/>: open the run record, resolve the model (writing the built-in tiny Qwen3 when none is
/// given), lease the template and method plugins, parse the method settings, load the tokenizer, and say what the
/// dataset and quantizer stages must do (<see cref="RunPlan"/>).</item>
/// <item>Prepare the data: <see cref="DatasetPipeline.Prepare(DatasetRequest, ITokenizer, IChatFormat, IReadOnlyList{string}, Action{string})"/>
/// with the plan's <see cref="RunPlan.Dataset"/> (the dataset stage).</item>
/// <item>Quantize the base (QLoRA only): <see cref="QuantizedBase.EnsureCached"/> with the plan's
/// <see cref="RunPlan.Quantization"/> into <see cref="QuantizedBaseCacheDirectory"/> (the quantizer stage).</item>
/// <item><see cref="Train"/>: load the base (already quantized, from that cache), adapt it (or load a checkpoint's
/// adapter to resume), train on the prepared rows, and record metrics, checkpoints and the summary.</item>
/// </list>
/// </summary>
public sealed class TrainingJob(RunStore store, PluginHost plugins, string? tokenizersFolder = null)
{
    public const string BuiltInFamily = "qwen3";
    public const string BuiltInSize = "tiny";

    /// <summary>
    /// The dtype models are built, trained and quantized from: float32 (bf16 autocast is an option of the
    /// trainer). Part of the quantized-base cache key, so the quantizer and the trainer must agree on it.
    /// </summary>
    public const ScalarType ComputeDtype = ScalarType.Float32;

    /// <summary>The plugins runs lease their template and method from (the evaluator and exporter stages load adapters through them).</summary>
    public PluginHost Plugins => plugins;

    /// <summary>Where this job records its runs.</summary>
    public RunStore Store => store;

    /// <summary>Tokenized datasets, by a hash of data, tokenizer and options (<see cref="DatasetCacheKey"/>).</summary>
    public string DatasetCacheDirectory => Path.Combine(store.Folder, "cache", "datasets");

    /// <summary>Quantized bases, by checkpoint digest, scheme and compute dtype.</summary>
    public string QuantizedBaseCacheDirectory => Path.Combine(store.Folder, "cache", "quantized-bases");

    /// <summary>Test hook: sees every <see cref="Trainer"/> and its cancellation token before it trains (to inject an out-of-memory or a NaN).</summary>
    internal Action<Trainer, CancellationToken>? ConfigureTrainer { get; init; }

    /// <summary>The method a name stands for; "auto" picks LoRA until the recommender lands, and says so.</summary>
    public static (string Method, string? Note) ResolveMethod(string requested) => requested switch
    {
        "auto" => ("lora", "--method auto picked lora (the hardware-aware recommender comes later; LoRA fits every machine this runs on)"),
        _ => (requested, null),
    };

    /// <summary>
    /// What a resume continues: the run's request and its last complete checkpoint, for a run id in the store,
    /// a checkpoint folder, or an output folder holding checkpoints.
    /// </summary>
    public (TrainRequest Request, string Checkpoint) ResolveResume(string runOrDirectory)
    {
        string? checkpoint;
        TrainRequest request;
        // A bare run id names the run even when the working directory holds a folder of that name (the runs folder itself).
        var isRunId = store.Exists(runOrDirectory) && runOrDirectory.IndexOfAny(['/', '\\']) < 0;
        if (!isRunId && Directory.Exists(runOrDirectory))
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

    /// <summary>
    /// Step 1: records the run as running (a new record, or the resumed run's), resolves everything the stages
    /// need and reports what it did as <see cref="JobMessage"/>s. Seconds at most (the built-in model is written
    /// once); the caller owns the plan and disposes it when the run ends. The run trains on <paramref name="device"/>
    /// when given (a data-parallel worker's own), else where its <c>device</c> option resolves on this machine: an
    /// option this machine cannot honour (cuda without a CUDA device) throws <see cref="TrainingOptionsException"/>
    /// here, before anything trains, for the caller to record as the run's failure.
    /// </summary>
    public RunPlan Plan(TrainRequest request, string? checkpoint, IProgress<TrainingEvent>? progress = null, Device? device = null)
    {
        if (store.Exists(request.RunId))
            store.Save(store.Get(request.RunId) with { Status = RunStatus.Running, Error = null, Config = request.ToJson() });
        else
            store.Create(request.RunId, request.ToJson(), Path.GetFullPath(request.OutputDirectory));
        return Resolve(request, checkpoint, progress, device);
    }

    /// <summary>
    /// <see cref="Plan"/> for a data-parallel replica other than rank 0: resolves the same run without recording it
    /// (rank 0 records the run; the built-in model, if the request uses it, is written only if missing).
    /// </summary>
    public RunPlan PlanReplica(TrainRequest request, string? checkpoint, IProgress<TrainingEvent>? progress = null, Device? device = null) =>
        Resolve(request, checkpoint, progress, device);

    private RunPlan Resolve(TrainRequest request, string? checkpoint, IProgress<TrainingEvent>? progress, Device? device)
    {
        device ??= TrainingDevice.Resolve(request.Options.Device);
        void Say(string text) => progress?.Report(new JobMessage(text));
        if (request.MethodNote is { } note)
            Say(note);
        Say(checkpoint is null ? $"run {request.RunId}" : $"run {request.RunId}: resuming from {checkpoint}");
        var modelDir = request.ModelDirectory ?? EnsureBuiltInModel(request.BuiltInSeed, Say);
        var config = ModelConfigReader.Load(Path.Combine(modelDir, Checkpoint.ConfigFileName));
        var templateLease = request.Template is { } name ? plugins.AcquireTemplate(name) : plugins.AcquireTemplateFor(config.ModelType);
        PluginLease<IFineTuneMethod>? methodLease = null;
        try
        {
            methodLease = plugins.AcquireMethod(request.Method);
            var method = methodLease.Instance;
            var settings = method.ParseSettings(request.MethodSettings);
            var options = request.Options.ResolvedFor(method.Name);
            return new RunPlan(templateLease, methodLease)
            {
                Request = request,
                ModelDirectory = modelDir,
                Config = config,
                Settings = settings,
                Format = ChatFormats.Get(templateLease.Instance.ChatFormatFor(config)),
                Tokenizer = Tokenizer.FromDirectory(modelDir),
                Dataset = DatasetRequestFor(request, options) with { CacheDirectory = DatasetCacheDirectory },
                Quantization = QuantizationScheme.FromMethodSettings(settings.ToJson()),
                QuantizedBaseCacheDirectory = QuantizedBaseCacheDirectory,
                Device = device,
            };
        }
        catch
        {
            methodLease?.Dispose();
            templateLease.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Step 4: trains the plan's run on <paramref name="data"/>, from the start or from <paramref name="checkpoint"/>
    /// (with the plan's request as given: a supervisor's retry after an out-of-memory passes the halved
    /// micro-batch; the effective batch must stay the checkpoint's). The base comes from the quantized-base cache
    /// when the plan quantizes it (the quantizer stage filled it). Events go to <paramref name="progress"/> and the
    /// run's metrics; the completed run's summary goes into run.json. A failure or cancel is thrown for the
    /// caller to record. With <paramref name="dataParallel"/> the run is one replica of several (every replica calls
    /// this with the same plan, data and checkpoint); only rank 0 records metrics and the summary.
    /// </summary>
    public TrainingSummary Train(RunPlan plan, PreparedDataset data, string? checkpoint, IProgress<TrainingEvent>? progress = null, CancellationToken cancellation = default,
        DataParallel? dataParallel = null)
    {
        CpuAllocator.RetainFreedMemory();
        var request = plan.Request;
        var id = request.RunId;
        var records = dataParallel?.IsMain ?? true;
        if (checkpoint is not null && records)
            store.TruncateMetricsAfter(id, TrainerState.Read(checkpoint).GlobalStep);
        IProgress<TrainingEvent>? sink = records ? new RunRecorder(store, id, progress) : progress;
        void Say(string text) => sink?.Report(new JobMessage(text));

        var options = plan.Options;
        var (template, method, config, modelDir) = (plan.Template, plan.Method, plan.Config, plan.ModelDirectory);
        manual_seed(options.Seed);
        using var model = LoadBase(plan, Say);
        // Onto the run's device before the method adapts it: adapters are created where their base layer is.
        if (plan.Device.type != DeviceType.CPU)
            model.to(plan.Device);
        var asked = plan.Request.Options.Device;
        Say($"device: training on {plan.Device}{(asked == plan.Device.ToString() ? "" : $" (device: {asked})")}");
        var adapted = checkpoint is null ? method.Adapt(model, template, plan.Settings) : method.Load(model, template, checkpoint);
        var trainable = adapted.TrainableParameters.Sum(p => p.Parameter.numel());
        Say($"model: {template.Name} from {modelDir}, {config.ParameterCount():N0} parameters; {method.Name} trains {trainable:N0}; learning_rate {options.LearningRate:G3}");

        var trainer = new Trainer(adapted, options, data.Train, data.Validation, request.OutputDirectory, new AdapterSaveOptions(modelDir), plan.Tokenizer.PadTokenId ?? config.PadTokenId ?? 0)
        {
            CheckpointFiles = new Dictionary<string, string> { [TrainRequest.FileName] = request.ToJson().ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) },
            DataParallel = dataParallel,
        };
        ConfigureTrainer?.Invoke(trainer, cancellation);
        var result = trainer.Train(sink, checkpoint, cancellation);

        // Over the whole run (resumed sessions included) from the recorded metrics; a replica that records nothing has this session's.
        var metrics = records ? store.Metrics(id) : null;
        var trainLosses = metrics?.Where(m => (string?)m["event"] == "step").Select(m => (double)m["loss"]!).ToList() ?? result.StepLosses.Select(s => s.Loss).ToList();
        var evalLosses = metrics?.Where(m => (string?)m["event"] == "eval").Select(m => (double)m["eval_loss"]!).ToList() ?? result.ValidationLosses.Select(v => v.Loss).ToList();
        var summary = new TrainingSummary(id, method.Name, request.MethodNote, result.Steps, result.TotalSteps,
            trainLosses.Count > 0 ? trainLosses[0] : null, trainLosses.Count > 0 ? trainLosses[^1] : null,
            evalLosses.Count > 0 ? evalLosses[0] : null, evalLosses.Count > 0 ? evalLosses[^1] : null,
            result.BestValidationLoss, result.StoppedEarly, data.Train.Count, data.Validation.Count,
            result.OutputDirectory, result.LastCheckpoint, Stopwatch.GetElapsedTime(plan.StartedAt));
        if (records)
            store.Save(store.Get(id) with { Status = RunStatus.Completed, Summary = summary.ToJson() });
        return summary;
    }

    /// <summary>
    /// Step 5, when the run asks for evaluation and holds rows out: writes the held-out conversations (exactly the
    /// validation split the trainer measured) as &lt;output&gt;/heldout.jsonl and returns the evaluation of the
    /// trained adapter on them; null when there is nothing to evaluate.
    /// </summary>
    public Evaluation.EvaluationRequest? EvaluationFor(RunPlan plan, TrainingSummary summary)
    {
        var wanted = plan.Request.Evaluation;
        if (!wanted.Enabled || summary.ValidationRows == 0)
            return null;
        var heldOut = DatasetPipeline.HeldOutConversations(plan.Dataset, plan.Tokenizer, plan.Format);
        if (heldOut.Count == 0)
            return null;
        var file = Path.Combine(summary.OutputDirectory, HeldOutFileName);
        Evaluation.EvaluationData.WriteShareGpt(file, heldOut);
        return new Evaluation.EvaluationRequest
        {
            ModelDirectory = plan.ModelDirectory,
            AdapterDirectory = summary.OutputDirectory,
            DataFile = file,
            MaxSamples = wanted.MaxSamples,
            MaxNewTokens = wanted.MaxNewTokens,
            CutoffLength = plan.Options.CutoffLen,
            Template = plan.Template.Name,
        };
    }

    /// <summary>The held-out rows of a run, beside its output, as ShareGPT JSON Lines (<c>fta eval --data</c> reads them too).</summary>
    public const string HeldOutFileName = "heldout.jsonl";

    /// <summary>
    /// The base model in <see cref="ComputeDtype"/>: with its projections read already quantized from the
    /// quantized-base cache when the plan quantizes (should the cache have lost them, they are quantized again,
    /// and that is said), else the checkpoint's weights as they are.
    /// </summary>
    private static CausalLM LoadBase(RunPlan plan, Action<string> say)
    {
        if (plan.Quantization is { } scheme)
        {
            var loaded = QuantizedBase.Load(plan.ModelDirectory, scheme, ComputeDtype, plan.QuantizedBaseCacheDirectory);
            say(loaded.FromCache
                ? $"model: base projections read quantized ({scheme.Key}) from {loaded.CacheFile}"
                : $"model: the quantized base was not in the cache{(loaded.CacheProblem is { } problem ? $" ({problem})" : "")}; quantized it again");
            return loaded.Model;
        }
        var model = plan.Template.BuildModel(plan.Config, ComputeDtype, initialize: false);
        try
        {
            Checkpoint.LoadWeights(model, plan.ModelDirectory);
            return model;
        }
        catch
        {
            model.Dispose();
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
}
