using FineTuneAgent.Modeling.Config;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Abstractions.Methods;

/// <summary>One linear projection of a decoder layer, by its checkpoint name.</summary>
public sealed record LinearShape(string Name, long InFeatures, long OutFeatures, bool HasBias)
{
    public long WeightElements => InFeatures * OutFeatures;
}

/// <summary>
/// The arithmetic every method's estimate shares: the decoder's parameter layout, the activations a layer keeps
/// for backward and the loss head's buffers, as this project's layers and trainer compute them. Activation counts
/// follow FACTS.md §10.2, adapted to these layers: SwiGLU MLP, grouped-query attention without repeated keys and
/// values, and on the CPU the shim's fused kernels (<see cref="TrainingShape.FusedCpuKernels"/>).
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
        if (shape.FusedCpuKernels)
        {
            var fused =
                2 * h                              // input norm: its input, and its output (the q/k/v input)
                + (c.UseQkNorm ? q + kv : 0)       // q/k norms keep their inputs (rotary keeps nothing)
                + q + 2 * kv                       // attention keeps the rotated q and k, and v
                + q                                // attention output, the o_proj input
                + 2 * h                            // post-attention norm input and output (the MLP input)
                + 3L * c.IntermediateSize;         // gate and up (SwiGLU's inputs), their product (the down_proj input)
            // Attention's fused core (float32 and bfloat16) keeps two floats per query row and head, its softmax's
            // max and 1/Σ, instead of its probabilities; other dtypes take the eager ops, which keep them.
            if (shape.ComputeDtype is ScalarType.Float32 or ScalarType.BFloat16)
                return b * s * (fused + 2L * c.NumAttentionHeads * 4 / ElementSize(shape.ComputeDtype));
            return b * (s * fused + (long)c.NumAttentionHeads * s * s);
        }
        var perToken =
            2 * h                              // input norm: its input, and its output (the q/k/v input)
            + (c.UseQkNorm ? q + kv : 0)       // q/k norms keep their inputs
            + q + 2 * kv                       // q, k and v for the two attention products
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
        // Checkpointed (GradientCheckpointing.ForwardBackward): each layer's input stays, and the loss head runs and
        // backpropagates first, so its buffers (LossHeadBytes, in the workspace) are freed before any layer is
        // recomputed; a recomputed layer then lives beside the saved inputs. The layer counts only where it exceeds
        // the head's buffers.
        var recomputed = layer;
        var head = LossHeadBytes(c, shape);
        var checkpointed = layersWithGradient * tokens * c.HiddenSize * bytes + finalNorm + Math.Max(0, recomputed - head);
        return (plain, Math.Min(plain, checkpointed));
    }

    /// <summary>
    /// The loss head's buffers (LossHead: the tokens whose next label counts, projected a chunk at a time): the
    /// gathered hidden states and their gradient, and one chunk's logits. On the CPU the fused cross-entropy writes
    /// the chunk's gradient over its logits; elsewhere libtorch's cross_entropy (nll_loss(log_softmax(x.float())))
    /// keeps a float32 copy, log_softmax's float32 output and its gradient beside them. Every token is counted
    /// (a dataset's prompts and padding make it less). Measured (fta bench methods, qwen3 tiny, LoRA, fp32) with
    /// the whole logits before the chunked head: 4.06 float32 copies of a token's logits, as the eager count says.
    /// </summary>
    /// <param name="outputTrained">The output matrix trains (Full, or Freeze with the embedding or lm_head): its
    /// gradient comes out of the head's backward. Counted as three copies of that matrix, an empirical term: measured
    /// (fta bench methods, Full, fp32; Llama tiny with its 128,256 × 64 tied matrix and Qwen3 two layers with
    /// 32,000 × 1024) resident memory is that much above the other terms. Not what its name suggests, though: the
    /// caching allocator's own peak in that backward is the weight, one chunk's logits and one gradient (Llama tiny:
    /// 125.2 MiB = 31.3 + 62.6 + 31.3; adding the head's weight gradient by hand with addmm_ changed nothing), and
    /// the rest (~70 MiB there) sits in glibc's heap and a thread arena (smaps: +48 and +31 MiB), from allocations
    /// under 1 MiB whose origin is not attributed yet.</param>
    public static long LossHeadBytes(ModelConfig c, TrainingShape shape, bool outputTrained = false)
    {
        long tokens = (long)shape.MicroBatchSize * shape.SequenceLength, cb = ElementSize(shape.ComputeDtype);
        var chunk = Math.Min(tokens, Math.Max(1, Modeling.Layers.LossHead.DefaultChunkElements / c.VocabSize));
        if (chunk >= 64)
            chunk = (chunk + 63) / 64 * 64;                 // LossHead pads chunks to a multiple of 64 rows
        var logits = chunk * c.VocabSize * (shape.FusedCpuKernels ? cb : cb + 3 * 4);
        var outputGradient = outputTrained ? 3L * c.VocabSize * c.HiddenSize * ElementSize(shape.WeightDtype) : 0;
        return logits + 2 * tokens * c.HiddenSize * cb + outputGradient;
    }

    /// <summary>
    /// The optimizer step's transients (see <see cref="MemoryEstimate.OptimizerStepBytes"/>). On the CPU
    /// (<see cref="TrainingShape.FusedCpuKernels"/>) AdamW updates each float32 parameter in one pass that allocates
    /// nothing (native/src/adamw_fused.cpp) and each bfloat16 one 4 Mi elements at a time (16 MiB of temporaries at
    /// most, not counted). Elsewhere, the eager update (as PyTorch 1.13's single-tensor
    /// AdamW: denom = (exp_avg_sq.sqrt() / c).add_(eps)) makes two temporaries of the largest trainable tensor in the
    /// state dtype. Measured on Full (qwen3, 1 layer of 1024, vocabulary 32,000, 512 tokens, fp32), when the step still
    /// held the whole logits: the optimizer phase peaked at 1,095 MiB, of which weights, gradients and AdamW states
    /// were 740 and the logits 62; of the remaining ~290, the two temporaries of the 125 MiB embedding are 250.
    /// </summary>
    public static long OptimizerStepBytes(ModelConfig c, TrainingShape shape, long largestTrainableElements, ScalarType stateDtype) =>
        shape.FusedCpuKernels && stateDtype is ScalarType.Float32 or ScalarType.BFloat16 ? 0 : 2 * largestTrainableElements * ElementSize(stateDtype);

    /// <summary>Elements of the largest projection matrix of a decoder layer.</summary>
    public static long LargestLayerLinear(ModelConfig c) => LayerLinears(c).Max(l => l.WeightElements);

    /// <summary>Elements of the model's parameters that are matrices of decoder-layer projections.</summary>
    public static long LayerLinearElements(ModelConfig c) => c.NumHiddenLayers * LayerLinears(c).Sum(l => l.WeightElements);
}
