using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Abstractions.Templates;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Layers;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Methods.Full;

/// <summary>Full fine-tuning: every parameter trains; the result is a whole checkpoint.</summary>
public sealed class FullMethod : IFineTuneMethod
{
    public string Name => "full";

    public string Description => "Full: every parameter trains (the most memory, the most capacity); saves a whole checkpoint";

    public MethodSettings ParseSettings(JsonObject? settings) => FullSettings.Read(settings);

    /// <summary>
    /// Weights, gradients and both AdamW states in the weight dtype, as this project's AdamW keeps
    /// them (16 B/param in fp32, 8 B/param in pure bf16); HF's mixed precision with an fp32
    /// master copy would be 16 B/param over bf16 weights (FACTS §10.1).
    /// </summary>
    public MemoryEstimate EstimateMemory(ModelConfig config, TrainingShape shape, MethodSettings settings)
    {
        shape.Validate();
        _ = Expect(settings);
        long wb = ElementSize(shape.WeightDtype);
        var total = config.ParameterCount();
        var (plain, checkpointed) = MemoryEstimator.ActivationBytes(config, shape, config.NumHiddenLayers);
        return new MemoryEstimate
        {
            Method = Name,
            TotalParameters = total,
            TrainableParameters = total,
            WeightBytes = total * wb,
            GradientBytes = total * wb,
            OptimizerBytes = total * wb * shape.OptimizerStatesPerParameter,
            ActivationBytes = plain,
            CheckpointedActivationBytes = checkpointed,
            WorkspaceBytes = MemoryEstimator.LossHeadBytes(config, shape, outputTrained: true),
            // The largest trainable tensor is the embedding (or an untied lm_head), V x H.
            OptimizerStepBytes = MemoryEstimator.OptimizerStepBytes(config, shape,
                Math.Max((long)config.VocabSize * config.HiddenSize, MemoryEstimator.LargestLayerLinear(config)), shape.WeightDtype),
            GradientCheckpointing = shape.GradientCheckpointing,
        };
    }

    public AdaptedModel Adapt(CausalLM model, IModelTemplate template, MethodSettings settings) => FullAdaptedModel.Apply(model, Expect(settings));

    public AdaptedModel Load(CausalLM model, IModelTemplate template, string directory) => FullAdaptedModel.Load(model, directory);

    private static FullSettings Expect(MethodSettings settings) =>
        settings as FullSettings ?? throw new ArgumentException($"settings of method '{settings.Method}' given to 'full'", nameof(settings));
}
