using FineTuneAgent.Core.Recommendation;
using FineTuneAgent.Core.Hardware;
using System.CommandLine;
using System.Text.Json.Nodes;
using System.Runtime.ExceptionServices;
using FineTuneAgent.Actors;
using FineTuneAgent.Agent.Jobs;
using FineTuneAgent.Core.Export;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.History;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Console.Commands;

/// <summary>
/// `fta train`: fine-tunes a model on a dataset and records the run. With no arguments: the built-in tiny
/// Qwen3 (random weights, seed 0) on the bundled sample datasets (full fine-tuning: see the note where
/// the method is chosen), in under a minute on a 2-core CPU. The run goes through an in-process actor
/// system (AgentRoot → JobSupervisor → DatasetStage, QuantizerStage for QLoRA, TrainerStage), so an
/// out-of-memory is retried from the last checkpoint with a smaller micro-batch as the agent would.
/// </summary>
public static class TrainCommand
{
    /// <summary>
    /// What the no-argument job changes from the usual defaults: a random tiny model learns nothing at
    /// LoRA's usual 1e-4 in a few minutes, so it trains at 5e-3 with rank 16 for 2 epochs in batches of 4,
    /// and holds out 5% of the rows to show a validation loss.
    /// </summary>
    internal static readonly TrainingOptions BuiltInJobOptions = new()
    {
        LearningRate = 5e-3,
        NumTrainEpochs = 2,
        PerDeviceTrainBatchSize = 4,
        ValSize = 0.05,
        EvalSteps = 20,
        SaveSteps = 50,
        LoggingSteps = 1,
    };

    internal const int BuiltInJobLoraRank = 16;

    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "Model folder in Hugging Face layout (default: the built-in tiny Qwen3, random weights)." };
        var data = new Option<string[]>("--data") { Description = "A data file (.json/.jsonl, Alpaca), a dataset_info.json, or dataset_info names (comma-separated or repeated). Default: the bundled samples.", AllowMultipleArgumentsPerToken = true };
        var datasetDir = new Option<string?>("--dataset-dir") { Description = "Folder whose dataset_info.json resolves --data names (default: the bundled data/sample)." };
        var method = new Option<string>("--method") { Description = "auto, lora, qlora, dora, freeze or full.", DefaultValueFactory = _ => "auto" };
        var template = new Option<string?>("--template") { Description = "Model template by name (default: from config.json's model_type)." };
        var output = new Option<string?>("--out") { Description = "Output folder (default: <runs-dir>/<run id>/output)." };
        var epochs = new Option<double?>("--epochs") { Description = "num_train_epochs." };
        var maxSteps = new Option<int?>("--max-steps") { Description = "max_steps (overrides --epochs)." };
        var lr = new Option<double?>("--lr") { Description = "learning_rate (default: 1e-4 for the LoRA family, 1e-5 for freeze/full)." };
        var batch = new Option<int?>("--batch-size") { Description = "per_device_train_batch_size." };
        var accumulation = new Option<int?>("--grad-accum") { Description = "gradient_accumulation_steps." };
        var cutoff = new Option<int?>("--cutoff-len") { Description = "cutoff_len in tokens." };
        var rank = new Option<int?>("--lora-rank") { Description = "LoRA rank r (lora, qlora, dora)." };
        var valSize = new Option<double?>("--val-size") { Description = "val_size: validation fraction or count." };
        var evalSteps = new Option<int?>("--eval-steps") { Description = "eval_steps." };
        var saveSteps = new Option<int?>("--save-steps") { Description = "save_steps." };
        var seed = new Option<long?>("--seed") { Description = "seed." };
        var bf16 = new Option<bool>("--bf16") { Description = "bfloat16 autocast." };
        var checkpointing = new Option<bool>("--gradient-checkpointing") { Description = "Recompute each decoder layer in backward: activation memory of one layer instead of all, for about a third more compute." };
        var device = new Option<string?>("--device") { Description = "device: auto (CUDA device 0 when libtorch sees one, else the CPU), cpu, cuda or cuda:N." };
        var resume = new Option<string?>("--resume") { Description = "Continue a run: its id, a checkpoint folder, or an output folder with checkpoints." };
        var json = new Option<bool>("--json") { Description = "One JSON object per event line, then a summary object." };
        var runsDir = new Option<string?>("--runs-dir") { Description = "Where runs are recorded (default: FTA_RUNS_DIR or ~/.local/share/fta/runs)." };
        var export = new Option<string?>("--export") { Description = "After training, export the final adapter: peft, merged, gguf, or several comma-separated, into <output>/export-<format>." };
        var exportDtype = new Option<string?>("--export-dtype") { Description = "Merged export dtype: bf16, f16 or f32 (default: the base's)." };
        var exportQuant = new Option<string?>("--export-quant") { Description = "GGUF export tensor type: f32, f16 (default), q8_0 or q4_0." };
        var agentUrl = new Option<string?>("--agent") { Description = $"Submit the run to this running agent (http://host:port/) and follow it; default: {AgentClient.UrlVariable}, else the agent serving --runs-dir if one runs, else train here." };
        var agentToken = new Option<string?>("--token") { Description = $"The agent's auth token (default: {AgentClient.TokenVariable})." };
        var noEval = new Option<bool>("--no-eval") { Description = "Skip the evaluation after training (by default: base vs tuned on the held-out rows when --val-size holds rows out)." };
        var evalSamples = new Option<int?>("--eval-samples") { Description = "Held-out prompts the evaluation after training generates for (default 8)." };
        var command = new Command("train", "Fine-tune a model (no arguments: the built-in tiny Qwen3 on the bundled samples).")
        {
            model, data, datasetDir, method, template, output, epochs, maxSteps, lr, batch, accumulation, cutoff, rank, valSize, evalSteps, saveSteps, seed, bf16, checkpointing, device, resume, json, runsDir, export, exportDtype, exportQuant, noEval, evalSamples, agentUrl, agentToken,
        };
        command.SetAction(parse =>
        {
            // Export options are checked before training, so a typo does not cost a run.
            var exports = parse.GetValue(export) is { } e ? ExportChoices.FormatList(e) : null;
            var exportAs = parse.GetValue(exportDtype) is { } ed ? ExportChoices.DType(ed, "--export-dtype") : (FineTuneAgent.Torch.torch.ScalarType?)null;
            var ggufQuant = ExportChoices.Quant(parse.GetValue(exportQuant) ?? "f16", "--export-quant");
            var store = new RunStore(parse.GetValue(runsDir) ?? RunStore.DefaultFolder);
            using var plugins = PluginHost.Load();
            var job = new TrainingJob(store, plugins);
            using var agent = AgentClient.Find(parse.GetValue(agentUrl), parse.GetValue(agentToken), store.Folder);
            var view = TrainView.Create(parse.GetValue(json));
            using var cts = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                e.Cancel = true;
                cts.Cancel();
            };
            System.Console.CancelKeyPress += onCancel;
            try
            {
                TrainingSummary summary;
                if (parse.GetValue(resume) is { } from)
                {
                    if (exports is not null)
                        throw new ArgumentException($"--export goes with a new run; once run {from} finishes, export it with: fta export --run {from} --format ...");
                    summary = agent is not null
                        ? view.Run(progress => agent.Train(null, from, progress, cts.Token))
                        : view.Run(progress => Train(job, StartRun.Resume(from), progress, cts.Token));
                }
                else
                {
                    var builtIn = parse.GetValue(model) is null;
                    JsonObject? recommendedSettings = null;
                    bool? recommendedCheckpointing = null;
                    var (methodName, note) = (builtIn, parse.GetValue(method)) switch
                    {
                        (true, "auto") => ("full", "--method auto picked full for the built-in model: its weights are random, so there is nothing for an adapter to preserve, and LoRA over its frozen random 151,936-row embedding cannot fit the data (loss ~11.9 → ~11.1); full fine-tuning shows the real learning curve. Pass --method lora (or another) to choose."),
                        (false, "auto") => Recommend(plugins, parse.GetValue(model)!, parse.GetValue(cutoff), out recommendedSettings, out recommendedCheckpointing),
                        (_, var named) => TrainingJob.ResolveMethod(named!),
                    };
                    var options = builtIn ? BuiltInJobOptions : new TrainingOptions();
                    options = options with
                    {
                        LearningRate = parse.GetValue(lr) ?? options.LearningRate,
                        NumTrainEpochs = parse.GetValue(epochs) ?? options.NumTrainEpochs,
                        MaxSteps = parse.GetValue(maxSteps) ?? options.MaxSteps,
                        PerDeviceTrainBatchSize = parse.GetValue(batch) ?? options.PerDeviceTrainBatchSize,
                        GradientAccumulationSteps = parse.GetValue(accumulation) ?? options.GradientAccumulationSteps,
                        CutoffLen = parse.GetValue(cutoff) ?? options.CutoffLen,
                        ValSize = parse.GetValue(valSize) ?? options.ValSize,
                        EvalSteps = parse.GetValue(evalSteps) ?? options.EvalSteps,
                        SaveSteps = parse.GetValue(saveSteps) ?? options.SaveSteps,
                        Seed = parse.GetValue(seed) ?? options.Seed,
                        Bf16 = parse.GetValue(bf16) || options.Bf16,
                        GradientCheckpointing = parse.GetValue(checkpointing) || (recommendedCheckpointing ?? options.GradientCheckpointing),
                        Device = parse.GetValue(device) ?? options.Device,
                    };
                    options.Validate();
                    var settings = recommendedSettings;
                    var r = parse.GetValue(rank) ?? (builtIn && methodName is "lora" or "dora" or "qlora" ? BuiltInJobLoraRank : null);
                    if (r is { } rv)
                    {
                        settings ??= new JsonObject();
                        settings["r"] = rv;
                    }
                    var id = RunStore.NewId();
                    var request = new TrainRequest
                    {
                        RunId = id,
                        ModelDirectory = parse.GetValue(model) is { } m ? Path.GetFullPath(m) : null,
                        Datasets = (parse.GetValue(data) ?? []).SelectMany(d => d.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                            .Select(d => File.Exists(d) ? Path.GetFullPath(d) : d).ToList(),
                        DatasetDirectory = parse.GetValue(datasetDir) is { } dd ? Path.GetFullPath(dd) : null,
                        Method = methodName,
                        MethodNote = note,
                        MethodSettings = settings,
                        Template = parse.GetValue(template),
                        OutputDirectory = Path.GetFullPath(parse.GetValue(output) ?? Path.Combine(store.RunFolder(id), "output")),
                        Options = options,
                        Evaluation = new EvaluateAfterTraining { Enabled = !parse.GetValue(noEval), MaxSamples = parse.GetValue(evalSamples) ?? 8 },
                        Export = exports is null ? null : new ExportAfterTraining(exports, exportAs, ggufQuant),
                    };
                    if (agent is not null)
                    {
                        // The agent puts the output beside its own run record unless --out said where.
                        var remote = request.ToJson();
                        if (parse.GetValue(output) is null)
                            remote.Remove("output_dir");
                        summary = view.Run(progress => agent.Train(remote, null, progress, cts.Token));
                    }
                    else
                    {
                        summary = view.Run(progress => Train(job, StartRun.New(request), progress, cts.Token));
                    }
                }
                view.Finish(summary);
                return 0;
            }
            catch (OperationCanceledException cancelled)
            {
                System.Console.Error.WriteLine($"fta: {cancelled.Message}");
                return 130;
            }
            finally
            {
                System.Console.CancelKeyPress -= onCancel;
            }
        });
        return command;
    }

    /// <summary>
    /// --method auto for a model folder: the recommender's best-quality method that fits this machine, with its
    /// settings and checkpointing; the note carries its reasons. Nothing fitting is an error with the numbers.
    /// </summary>
    private static (string Method, string? Note) Recommend(PluginHost plugins, string modelDir, int? cutoff, out JsonObject? settings, out bool? checkpointing)
    {
        var config = FineTuneAgent.Modeling.Config.ModelConfigReader.Load(Path.Combine(modelDir, "config.json"));
        var (budget, request) = MachineBudget.Of(new HardwareProbe().Probe());
        request = request with { SequenceLength = cutoff ?? new TrainingOptions().CutoffLen };
        var recommendation = new Recommender(plugins.Method).Recommend(config, Path.GetFileName(Path.GetFullPath(modelDir).TrimEnd('/')), budget, request);
        if (recommendation.Chosen is not { } chosen)
            throw new ArgumentException($"--method auto: {string.Join(" ", recommendation.Reasons)}");
        settings = chosen.Settings.DeepClone().AsObject();
        checkpointing = chosen.GradientCheckpointing;
        return (chosen.Method, $"--method auto picked {chosen.Label}: {string.Join(" ", recommendation.Reasons.Skip(1).Take(1))}");
    }

    /// <summary>
    /// The run history beside the runs (&lt;runs-dir&gt;/history.db). A history that cannot be opened (damaged, from a
    /// newer fta) is left as it is and said on stderr: the run still trains and keeps run.json and metrics.jsonl,
    /// which `fta runs` imports once the history is repaired.
    /// </summary>
    private static HistoryStore? OpenHistory(RunStore runs)
    {
        try
        {
            return HistoryStore.Open(HistoryStore.DefaultPath(runs.Folder));
        }
        catch (Exception e) when (e is HistoryDatabaseException or Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException)
        {
            System.Console.Error.WriteLine($"fta: warning: this run is not recorded in the history: {e.Message}");
            return null;
        }
    }

    /// <summary>
    /// Runs one job through AgentRoot → JobSupervisor → its stages (dataset, quantizer, trainer): events to <paramref name="progress"/>
    /// (one at a time, in order), the summary back; a failure rethrows its exception (so a bad option still
    /// exits 1 naming the field) and a cancel throws OperationCanceledException (exit 130).
    /// </summary>
    internal static TrainingSummary Train(TrainingJob job, StartRun start, IProgress<TrainingEvent> progress, CancellationToken cancellation)
    {
        using var system = ActorSystem.Create("fta");
        var history = OpenHistory(job.Store) is { } store ? system.ActorOf(HistoryWriter.Props(store), "history") : null;
        var root = system.ActorOf(Props.Create(() => new AgentRoot(job, null, history)), "agent");
        var outcome = JobClient.Run(system, root, start, progress.Report, cancellation).GetAwaiter().GetResult();
        // The run told its history everything before its outcome; wait until the writer has committed it.
        try
        {
            history?.Ask<HistoryProtocol.Written>(HistoryProtocol.Flush.Instance, TimeSpan.FromMinutes(1)).GetAwaiter().GetResult();
        }
        catch (AskTimeoutException)
        {
            System.Console.Error.WriteLine("fta: warning: the run history did not confirm its last writes within a minute; `fta runs` re-imports the run from its folder");
        }
        switch (outcome)
        {
            case JobCompleted completed:
                return completed.Summary;
            case JobCancelled { Checkpoint: { } checkpoint } cancelled:
                throw new OperationCanceledException($"training cancelled; {checkpoint} was saved. Continue with: fta train --resume {cancelled.RunId}");
            case JobCancelled cancelled:
                throw new OperationCanceledException($"run {cancelled.RunId} cancelled before its first checkpoint; nothing to resume");
            case JobFailed failed:
                ExceptionDispatchInfo.Capture(failed.Cause).Throw();
                throw failed.Cause;
            default:
                throw new InvalidOperationException($"unexpected outcome {outcome}");
        }
    }
}
