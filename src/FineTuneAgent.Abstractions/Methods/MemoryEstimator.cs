using FineTuneAgent.Modeling.Config;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Abstractions.Methods;

/// <summary>One linear projection of a decoder layer, by its checkpoint name.</summary>
public sealed record LinearShape(string Name, long InFeatures, long OutFeatures, bool HasBias)
{
    public long WeightElements => InFeatures * OutFeatures;
}

/// <summary>
/// The arithmetic every method's estimate shares: the decoder's parameter layout and the
/// activations a layer keeps for backward. Activation counts follow FACTS.md §10.2, adapted to
/// this project's layers (SwiGLU MLP, grouped-query attention expanded to all heads, softmax
/// probabilities kept: libtorch 1.13 on CPU has no fused attention).
/// </summary>
public static class MemoryEstimator
{
    /// <summary>The seven projections of one decoder layer with their shapes.</summary>
    public static IReadOnlyList<LinearShape> LayerLinears(ModelConfig c)
    {
        long h = c.HiddenSize, q = (long)c.NumAttentionHeads * c.HeadDim, kv = (long)c.NumKeyValueHeads * c.HeadDim, i = c.IntermediateSize;
        return
        [
            new("self_attn.q_proj", h, q, c.AttentionBias),
            new("self_attn.k_proj", h, kv, c.AttentionBias),
            new("self_attn.v_proj", h, kv, c.AttentionBias),
            new("self_attn.o_proj", q, h, c.AttentionBias),
            new("mlp.gate_proj", h, i, c.MlpBias),
            new("mlp.up_proj", h, i, c.MlpBias),
            new("mlp.down_proj", i, h, c.MlpBias),
        ];
    }

    /// <summary>Every parameter of one decoder layer by its name within the layer, with its element count.</summary>
    public static IReadOnlyList<(string Name, long Elements)> LayerParameterCounts(ModelConfig c)
    {
        var list = new List<(string, long)>();
        foreach (var l in LayerLinears(c))
        {
            list.Add((l.Name + ".weight", l.WeightElements));
            if (l.HasBias)
                list.Add((l.Name + ".bias", l.OutFeatures));
        }
        list.Add(("input_layernorm.weight", c.HiddenSize));
        list.Add(("post_attention_layernorm.weight", c.HiddenSize));
        if (c.UseQkNorm)
        {
            list.Add(("self_attn.q_norm.weight", c.HeadDim));
            list.Add(("self_attn.k_norm.weight", c.HeadDim));
        }
        return list;
    }

    /// <summary>Parameters of one decoder layer (projections, biases, norms).</summary>
    public static long LayerParameters(ModelConfig c) => LayerParameterCounts(c).Sum(p => p.Elements);

    /// <summary>Parameters outside the decoder layers: embeddings, final norm, an untied LM head.</summary>
    public static long NonLayerParameters(ModelConfig c) => c.ParameterCount() - c.NumHiddenLayers * LayerParameters(c);

    /// <summary>Elements one decoder layer saves for backward per micro-batch, in the compute dtype.</summary>
    public static long LayerActivationElements(ModelConfig c, TrainingShape shape)
    {
        long s = shape.SequenceLength, b = shape.MicroBatchSize, h = c.HiddenSize;
        long q = (long)c.NumAttentionHeads * c.HeadDim, kv = (long)c.NumKeyValueHeads * c.HeadDim;
        var perToken =
            2 * h                              // input norm: its input, and its output (the q/k/v input)
            + (c.UseQkNorm ? q + kv : 0)       // q/k norms keep their inputs
            + 3 * q                            // q, and k and v expanded to every query head
            + q                                // attention output, the o_proj input
            + 2 * h                            // post-attention norm input and output (the MLP input)
            + 4L * c.IntermediateSize;         // gate, up, silu(gate), product (the down_proj input)
        var probabilities = (long)c.NumAttentionHeads * s * s * (c.AttentionDropout > 0 ? 3 : 1);
        return b * (s * perToken + probabilities);
    }

    /// <summary>
    /// Activation bytes with <paramref name="layersWithGradient"/> layers on the backward path,
    /// each also keeping <paramref name="extraElementsPerTokenPerLayer"/> (adapter intermediates).
    /// Returns (without checkpointing, with checkpointing: each layer keeps its input, and one
    /// layer's full activations exist during its recomputation).
    /// </summary>
    public static (long Plain, long Checkpointed) ActivationBytes(ModelConfig c, TrainingShape shape, int layersWithGradient, long extraElementsPerTokenPerLayer = 0)
    {
        shape.Validate();
        long bytes = ElementSize(shape.ComputeDtype);
        long tokens = (long)shape.MicroBatchSize * shape.SequenceLength;
        var layer = (LayerActivationElements(c, shape) + tokens * extraElementsPerTokenPerLayer) * bytes;
        var finalNorm = 2 * tokens * c.HiddenSize * bytes;
        if (layersWithGradient == 0)
            return (finalNorm, finalNorm);
        var plain = layersWithGradient * layer + finalNorm;
        // Checkpointed (GradientCheckpointing.ForwardBackward): each layer's input stays, and the
        // loss head runs and backpropagates first, so its buffers (LogitsBytes, the workspace) are
        // freed before any layer is recomputed; a recomputed layer then lives beside the saved inputs
        // and the logits the step still holds. The layer counts only where it exceeds the head's
        // buffers. Measured (qwen3, 2 layers of 1024, vocabulary 32,000, 512 tokens, LoRA fp32):
        // checkpointing lowers the peak by 150 MiB, the two layers' activations less their inputs.
        var head = LogitsBytes(c, shape);
        var recomputed = layer + tokens * c.VocabSize * bytes;
        var checkpointed = layersWithGradient * tokens * c.HiddenSize * bytes + finalNorm + Math.Max(0, recomputed - head);
        return (plain, Math.Min(plain, checkpointed));
    }

    /// <summary>
    /// The loss head's peak over the vocabulary, reached in backward at log_softmax (libtorch 1.13's
    /// cross_entropy is nll_loss(log_softmax(x))): the logits in the compute dtype (the training
    /// step still holds them), log_softmax's fp32 output (saved for its backward), nll_loss's fp32
    /// gradient (zeros, one entry scattered per row) and log_softmax's fp32 input gradient being
    /// written from it: 1 + 3 fp32 (B, S, V) tensors at once. The fp32 upcast of bf16 logits is
    /// freed after the forward (nothing saves it). Measured (fta bench methods, qwen3 tiny, LoRA,
    /// fp32): the training peak grows by 2.36 MiB per token with vocabulary 151,936, i.e. 4.06
    /// fp32 copies of a token's logits.
    /// </summary>
    public static long LogitsBytes(ModelConfig c, TrainingShape shape) =>
        (long)shape.MicroBatchSize * shape.SequenceLength * c.VocabSize * (ElementSize(shape.ComputeDtype) + 3 * 4);

    /// <summary>
    /// The optimizer step's transients (see <see cref="MemoryEstimate.OptimizerStepBytes"/>): two
    /// temporaries of the largest trainable tensor in the state dtype (this project's AdamW,
    /// native/src/optim.cpp, as PyTorch 1.13's single-tensor AdamW: denom = (exp_avg_sq.sqrt() /
    /// c).add_(eps)), and the logits the step still holds. Measured on Full (qwen3, 1 layer of 1024,
    /// vocabulary 32,000, 512 tokens, fp32): the optimizer phase peaks at 1,095 MiB, of which weights,
    /// gradients and AdamW states are 740 and the logits 62; of the remaining ~290, the two
    /// temporaries of the 125 MiB embedding are 250.
    /// </summary>
    public static long OptimizerStepBytes(ModelConfig c, TrainingShape shape, long largestTrainableElements, ScalarType stateDtype) =>
        2 * largestTrainableElements * ElementSize(stateDtype)
        + (long)shape.MicroBatchSize * shape.SequenceLength * c.VocabSize * ElementSize(shape.ComputeDtype);

    /// <summary>Elements of the largest projection matrix of a decoder layer.</summary>
    public static long LargestLayerLinear(ModelConfig c) => LayerLinears(c).Max(l => l.WeightElements);

    /// <summary>Elements of the model's parameters that are matrices of decoder-layer projections.</summary>
    public static long LayerLinearElements(ModelConfig c) => c.NumHiddenLayers * LayerLinears(c).Sum(l => l.WeightElements);
}
