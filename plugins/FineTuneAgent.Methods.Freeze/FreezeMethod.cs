using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Abstractions.Templates;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Layers;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Methods.Freeze;

/// <summary>Freeze: trains the last (or first) N decoder layers and chosen extra modules; saves the trained tensors.</summary>
public sealed class FreezeMethod : IFineTuneMethod
{
    public string Name => "freeze";

    public string Description => "Freeze: trains only the last N decoder layers (and chosen extra modules); everything else frozen";

    public MethodSettings ParseSettings(JsonObject? settings) => FreezeSettings.Read(settings);

    public MemoryEstimate EstimateMemory(ModelConfig config, TrainingShape shape, MethodSettings settings)
    {
        shape.Validate();
        var s = Expect(settings);
        var layers = s.LayerIndices(config.NumHiddenLayers);
        long wb = ElementSize(shape.WeightDtype);
        var perLayer = MemoryEstimator.LayerParameterCounts(config).Where(p => s.TrainsInLayer(p.Name)).Sum(p => p.Elements);
        long embedding = (long)config.VocabSize * config.HiddenSize;
        // A tied output layer is the embedding matrix: training either trains that one matrix.
        var trainsEmbedding = s.ExtraModules.Contains("embed_tokens") || (s.ExtraModules.Contains("lm_head") && config.TieWordEmbeddings);
        var extras = (trainsEmbedding ? embedding : 0)
            + (s.ExtraModules.Contains("lm_head") && !config.TieWordEmbeddings ? embedding : 0)
            + (s.ExtraModules.Contains("norm") ? config.HiddenSize : 0);
        var trainable = layers.Count * perLayer + extras;
        var largestTrainable = Math.Max(
            MemoryEstimator.LayerParameterCounts(config).Where(p => s.TrainsInLayer(p.Name)).Select(p => p.Elements).DefaultIfEmpty(0).Max(),
            extras >= embedding ? embedding : extras);
        // Backward runs from the loss down to the lowest trainable layer (to the embedding if it trains).
        var withGradient = trainsEmbedding ? config.NumHiddenLayers : config.NumHiddenLayers - layers.Min();
        var (plain, checkpointed) = MemoryEstimator.ActivationBytes(config, shape, withGradient);
        var total = config.ParameterCount();
        return new MemoryEstimate
        {
            Method = Name,
            TotalParameters = total,
            TrainableParameters = trainable,
            WeightBytes = total * wb,
            GradientBytes = trainable * wb,
            OptimizerBytes = trainable * wb * shape.OptimizerStatesPerParameter,
            ActivationBytes = plain,
            CheckpointedActivationBytes = checkpointed,
            WorkspaceBytes = MemoryEstimator.LossHeadBytes(config, shape, outputTrained: trainsEmbedding || s.ExtraModules.Contains("lm_head")),
            OptimizerStepBytes = MemoryEstimator.OptimizerStepBytes(config, shape, largestTrainable, shape.WeightDtype),
            GradientCheckpointing = shape.GradientCheckpointing,
        };
    }

    public AdaptedModel Adapt(CausalLM model, IModelTemplate template, MethodSettings settings) => FreezeAdaptedModel.Apply(model, Expect(settings));

    public AdaptedModel Load(CausalLM model, IModelTemplate template, string directory) => FreezeAdaptedModel.Load(model, directory);

    private static FreezeSettings Expect(MethodSettings settings) =>
        settings as FreezeSettings ?? throw new ArgumentException($"settings of method '{settings.Method}' given to 'freeze'", nameof(settings));
}
