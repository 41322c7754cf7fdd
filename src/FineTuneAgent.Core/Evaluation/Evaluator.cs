using System.Diagnostics;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Modeling.Chat;
using FineTuneAgent.Modeling.Checkpoints;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Layers;
using FineTuneAgent.Modeling.Tokenization;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Evaluation;

/// <summary>
/// Evaluates a base model and, with an adapter, the fine-tuned model on the same held-out data, top to bottom:
/// read the rows (loss rows through the dataset pipeline, prompts through its reader), load the base model, measure
/// it (held-out loss and perplexity, loss on the general texts, generation scored with BLEU/ROUGE/EM, tokens/s and
/// time to first token), then load the adapter through its method plugin into the same model and measure again.
/// </summary>
public sealed class Evaluator(PluginHost plugins)
{
    public EvaluationResult Run(EvaluationRequest request, IProgress<EvaluationProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        var clock = Stopwatch.StartNew();
        void Say(string? model, string phase, string message, int done = 0, int total = 0) =>
            progress?.Report(new EvaluationProgress(model, phase, message, done, total));

        var modelDir = request.ModelDirectory;
        var config = ModelConfigReader.Load(Path.Combine(modelDir, Checkpoint.ConfigFileName));
        var methodName = request.AdapterDirectory is { } adapterDir ? AdapterFolder.MethodOf(adapterDir) : null;
        if (request.AdapterDirectory is { } checkedAdapter)
            AdapterFolder.CheckBaseModel(checkedAdapter, config, modelDir);
        using var templateLease = request.Template is { } name ? plugins.AcquireTemplate(name) : plugins.AcquireTemplateFor(config.ModelType);
        using var methodLease = methodName is null ? null : plugins.AcquireMethod(methodName);
        var template = templateLease.Instance;
        var format = ChatFormats.Get(template.ChatFormatFor(config));
        var tokenizer = Tokenizer.FromDirectory(modelDir);
        var pad = tokenizer.PadTokenId ?? config.PadTokenId ?? 0;

        var description = EvaluationData.Describe(request.DataFile);
        var prompts = EvaluationData.Prompts(description, request.MaxSamples);
        var data = DatasetPipeline.Prepare(new DatasetRequest([new DatasetSource(description)])
        {
            CutoffLength = request.CutoffLength,
            Overlength = OverlengthPolicy.Truncate,
            Deduplicate = false,
            ValSize = 0,
        }, tokenizer, format, DatasetPipeline.TokenizerFiles(modelDir));
        var rows = request.MaxSamples is { } max ? data.Train.Take(max).ToList() : data.Train;
        var general = GeneralTextSet.Tokenize(GeneralTextSet.Load(request.GeneralTextFile), tokenizer, request.CutoffLength);
        var options = GenerationEvaluator.GreedyOptions(modelDir, config, tokenizer, format, request.MaxNewTokens);
        Say(null, "setup", $"data: {rows.Count} rows for loss, {prompts.Count} prompts for generation ({description.Format}, chat format {format.Name}); general text: {general.Count} texts");

        using var model = template.BuildModel(config, ScalarType.Float32, initialize: false);
        Checkpoint.LoadWeights(model, modelDir);
        Say(null, "setup", $"model: {template.Name} from {modelDir}, {config.ParameterCount():N0} parameters");
        var baseline = Measure("base", model);

        ModelEvaluation? tuned = null;
        if (request.AdapterDirectory is { } adapter && methodLease is not null)
        {
            LoadAdapter(methodLease.Instance, model, template, adapter, modelDir, config);
            Say(null, "setup", $"adapter: {methodLease.Instance.Name} from {adapter}");
            tuned = Measure("tuned", model);
        }
        return new EvaluationResult(request, methodName, baseline, tuned, clock.Elapsed);

        ModelEvaluation Measure(string which, CausalLM lm)
        {
            var validation = LossEvaluator.Evaluate(lm, rows, pad, request.BatchSize,
                done => Say(which, "validation", $"{which}: loss on {done}/{rows.Count} rows", done, rows.Count), cancellation);
            Say(which, "validation", $"{which}: held-out loss {validation.Loss:F4}, perplexity {validation.Perplexity:G5}");
            var generalLoss = LossEvaluator.Evaluate(lm, general, pad, request.BatchSize,
                done => Say(which, "general-text", $"{which}: general text {done}/{general.Count}", done, general.Count), cancellation);
            Say(which, "general-text", $"{which}: general-text loss {generalLoss.Loss:F4}");
            var generation = GenerationEvaluator.Evaluate(lm, tokenizer, format, prompts, options,
                done => Say(which, "generation", $"{which}: generated {done}/{prompts.Count}", done, prompts.Count), cancellation);
            Say(which, "generation", $"{which}: BLEU-4 {generation.Scores.Bleu4:F2}, ROUGE-L {generation.Scores.RougeL:F2}, {generation.TokensPerSecond:F1} tokens/s");
            return new ModelEvaluation(validation, generalLoss, generation);
        }
    }

    /// <summary>The method's Load, with an adapter that does not fit the model reported as such.</summary>
    private static AdaptedModel LoadAdapter(IFineTuneMethod method, CausalLM model, Abstractions.Templates.IModelTemplate template, string adapter,
        string modelDir, ModelConfig config)
    {
        try
        {
            return method.Load(model, template, adapter);
        }
        catch (Exception e) when (e is InvalidDataException or CheckpointException or Torch.TorchException)
        {
            throw new InvalidDataException(
                $"--adapter {adapter} ({method.Name}) does not fit the model in {modelDir} ({config.ModelType}, hidden {config.HiddenSize}, {config.NumHiddenLayers} layers, vocabulary {config.VocabSize}): {e.Message}", e);
        }
    }
}
