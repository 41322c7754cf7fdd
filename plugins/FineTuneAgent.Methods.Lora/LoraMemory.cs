using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Modeling.Config;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Methods.Lora;

/// <summary>How QLoRA stores the base projections, for the estimate.</summary>
public sealed record QuantizedBase(string Type, int BlockSize, bool DoubleQuant)
{
    /// <summary>Bytes of the stored weight of a projection of <paramref name="elements"/> weights.</summary>
    public long WeightBytes(long elements) => Type == "nf4" ? (elements + 1) / 2 : elements;

    /// <summary>Bytes of the constants of a projection: absmax per block (8-bit plus nested fp32 with DQ), or a scale per row for int8.</summary>
    public long ConstantBytes(long elements, long rows)
    {
        if (Type != "nf4")
            return rows * 4;
        var blocks = (elements + BlockSize - 1) / BlockSize;
        // With DQ: an 8-bit code per block, an fp32 absmax per 256 of those, the fp32 offset,
        // and the 256-entry fp32 dynamic map each layer keeps (bitsandbytes' nested quant_map).
        return DoubleQuant ? blocks + (blocks + 255) / 256 * 4 + 4 + 256 * 4 : blocks * 4;
    }
}

/// <summary>The LoRA family's memory: frozen base, fp32 adapters with AdamW, activations of every layer.</summary>
public static class LoraMemory
{
    public static MemoryEstimate Estimate(ModelConfig c, TrainingShape shape, LoraSettings s, QuantizedBase? quantized = null)
    {
        shape.Validate();
        long wb = ElementSize(shape.WeightDtype), ab = ElementSize(s.AdapterDtype), cb = ElementSize(shape.ComputeDtype);
        var linears = MemoryEstimator.LayerLinears(c);
        long trainable = 0, largestAdapter = 0, extraPerTokenBytes = 0, quantizedElements = 0, quantizedBytes = 0, constants = 0, largestLinear = 0;
        for (var i = 0; i < c.NumHiddenLayers; i++)
        {
            foreach (var l in linears)
            {
                var path = $"model.layers.{i}.{l.Name}";
                if (quantized is not null)
                {
                    quantizedElements += l.WeightElements;
                    quantizedBytes += quantized.WeightBytes(l.WeightElements);
                    constants += quantized.ConstantBytes(l.WeightElements, l.OutFeatures);
                }
                largestLinear = Math.Max(largestLinear, l.WeightElements);
                if (!s.Targets.Matches(path))
                    continue;
                var r = s.RankFor(path);
                trainable += r * (l.InFeatures + l.OutFeatures) + (s.UseDora ? l.OutFeatures : 0);
                largestAdapter = Math.Max(largestAdapter, r * Math.Max(l.InFeatures, l.OutFeatures));
                if (i == 0)
                {
                    // Saved for backward per token: A's output, dropout's output and mask, and DoRA's two extra
                    // [out] results. (No copy of the input in the adapter's dtype: a bf16 run computes under
                    // autocast, which takes the bf16 input as it is.)
                    extraPerTokenBytes += r * ab + (s.Dropout > 0 ? l.InFeatures * (ab + 1) : 0) + (s.UseDora ? 2 * l.OutFeatures * ab : 0);
                }
            }
        }
        if (trainable == 0)
            throw new MethodSettingsException(s.Method, "target_modules", $"{s.Targets.ToJson().ToJsonString()} matches no linear layer of the model");
        var total = c.ParameterCount();
        var weights = (total - quantizedElements) * wb + quantizedBytes + trainable * ab;
        var (plain, checkpointed) = MemoryEstimator.ActivationBytes(c, shape, c.NumHiddenLayers, (extraPerTokenBytes + cb - 1) / cb);
        // Dequantized weight (QLoRA) or DoRA's fp32 copy of W for the norm: one projection at a time.
        var workspace = MemoryEstimator.LossHeadBytes(c, shape) + (quantized is not null ? largestLinear * cb : 0) + (s.UseDora ? largestLinear * ab * 2 : 0);
        return new MemoryEstimate
        {
            Method = s.Method,
            TotalParameters = total + trainable,
            TrainableParameters = trainable,
            WeightBytes = weights,
            GradientBytes = trainable * ab,
            OptimizerBytes = trainable * ab * shape.OptimizerStatesPerParameter,
            QuantizationConstantBytes = constants,
            ActivationBytes = plain,
            CheckpointedActivationBytes = checkpointed,
            WorkspaceBytes = workspace,
            OptimizerStepBytes = MemoryEstimator.OptimizerStepBytes(c, shape, largestAdapter, s.AdapterDtype),
            GradientCheckpointing = shape.GradientCheckpointing,
        };
    }
}
