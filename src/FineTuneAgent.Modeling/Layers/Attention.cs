using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Torch;
using FineTuneAgent.Torch.Modules;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Layers;

/// <summary>
/// Grouped-query self-attention as Qwen3Attention / LlamaAttention: projections, optional per-head
/// q/k RMSNorm (Qwen3) before RoPE, keys and values shared by groups of query heads, softmax in
/// float32, masked with the causal and padding mask.
/// </summary>
public sealed class Attention : nn.Module
{
    private readonly ModelConfig _config;
    private readonly double _scaling;

    public Attention(ModelConfig config, int layerIndex, ScalarType? dtype) : base(nameof(Attention))
    {
        _config = config;
        LayerIndex = layerIndex;
        _scaling = 1.0 / Math.Sqrt(config.HeadDim);
        long h = config.HiddenSize, hd = config.HeadDim;
        q_proj = new Linear(h, config.NumAttentionHeads * hd, config.AttentionBias, dtype: dtype);
        k_proj = new Linear(h, config.NumKeyValueHeads * hd, config.AttentionBias, dtype: dtype);
        v_proj = new Linear(h, config.NumKeyValueHeads * hd, config.AttentionBias, dtype: dtype);
        o_proj = new Linear(config.NumAttentionHeads * hd, h, config.AttentionBias, dtype: dtype);
        register_module("q_proj", q_proj);
        register_module("k_proj", k_proj);
        register_module("v_proj", v_proj);
        register_module("o_proj", o_proj);
        if (config.UseQkNorm)
        {
            q_norm = new RmsNorm(hd, config.RmsNormEps, dtype);
            k_norm = new RmsNorm(hd, config.RmsNormEps, dtype);
            register_module("q_norm", q_norm);
            register_module("k_norm", k_norm);
        }
    }

    public int LayerIndex { get; }

    // Projections are settable so fine-tuning methods can wrap them (LoRA) in place.
    public nn.Module<Tensor, Tensor> q_proj { get; private set; }
    public nn.Module<Tensor, Tensor> k_proj { get; private set; }
    public nn.Module<Tensor, Tensor> v_proj { get; private set; }
    public nn.Module<Tensor, Tensor> o_proj { get; private set; }
    public RmsNorm? q_norm { get; }
    public RmsNorm? k_norm { get; }

    /// <summary>x (B, S, H); cos/sin (B, S, hd); allowed (B, 1, S, T) bool → (B, S, H).</summary>
    public Tensor forward(Tensor x, Tensor cos, Tensor sin, Tensor allowed, KvCache? cache)
    {
        using var scope = NewDisposeScope();
        var shape = x.shape;
        long b = shape[0], s = shape[1], hd = _config.HeadDim;
        var q = q_proj.call(x).view(b, s, _config.NumAttentionHeads, hd);        // (B, S, nH, hd)
        var k = k_proj.call(x).view(b, s, _config.NumKeyValueHeads, hd);        // (B, S, nKV, hd)
        var v = v_proj.call(x).view(b, s, _config.NumKeyValueHeads, hd);        // (B, S, nKV, hd)
        if (q_norm is not null && k_norm is not null)
        {
            q = q_norm.call(q);
            k = k_norm.call(k);
        }
        if (FusedCoreType(q, k, v, allowed, cache) is { } coreType)
        {
            // The whole core in one node that keeps one float pair per query row instead of the (B, nH, S, T)
            // probabilities, and returns (B, S, nH, hd): the heads are already where o_proj wants them, without
            // the transpose and copy below. Under autocast eager's matmuls cast q, k, the probabilities and v to
            // the autocast dtype, so the core takes them in it (the rotary gives float32 q and k when cos is float32).
            var qr = RotaryEmbedding.ApplyInProjectionLayout(q, cos, sin).to_type(coreType);
            var kr = RotaryEmbedding.ApplyInProjectionLayout(k, cos, sin).to_type(coreType);
            var core = fused.attention(qr, kr, v.to_type(coreType), allowed, _scaling);
            return scope.MoveToOuter(o_proj.call(core.view(b, s, _config.NumAttentionHeads * hd)));
        }
        v = v.transpose(1, 2);                                                     // (B, nKV, S, hd)
        q = RotaryEmbedding.ApplyToProjection(q, cos, sin);                       // (B, nH, S, hd)
        k = RotaryEmbedding.ApplyToProjection(k, cos, sin);                       // (B, nKV, S, hd)
        if (cache is not null)
            (k, v) = cache.Update(LayerIndex, k, v);                             // (B, nKV, T, hd)
        // Grouped-query attention without repeating keys and values: the `groups` query heads that share a
        // key/value head are stacked along the sequence axis, (B, nKV, groups·S, hd), so one matmul per
        // key/value head serves them all. Head h = kv·groups + g, HF's repeat_kv order, so the scores and
        // probabilities have exactly the (B, nH, S, T) layout (dropout draws the same mask), and backward
        // never sums gradients over repeated copies.
        var groups = _config.NumKeyValueGroups;
        long nKv = _config.NumKeyValueHeads, t = k.size(2);
        var stacked = q.reshape(b, nKv, groups * s, hd);
        var products = stacked.matmul(k.transpose(2, 3));                          // (B, nKV, groups·S, T)
        Tensor probs;
        if (FusedSoftmax(products, q.dtype, allowed))
        {
            // Scale, mask, float32 softmax and the cast in one pass each way.
            probs = fused.masked_softmax(products.view(b, _config.NumAttentionHeads, s, t), allowed, _scaling, q.dtype).view(b, nKv, groups * s, t);
        }
        else
        {
            var scores = products * _scaling;
            var masked = scores.view(b, nKv, groups, s, t)
                .masked_fill(allowed.logical_not().unsqueeze(1), MinValue(scores.dtype)); // (B, nKV, groups, S, T)
            probs = masked.softmax(-1, ScalarType.Float32).to_type(q.dtype).view(b, nKv, groups * s, t);
        }
        if (training && _config.AttentionDropout > 0)
            probs = nn.functional.dropout(probs, _config.AttentionDropout, true);
        var output = probs.matmul(v)                                             // (B, nKV, groups·S, hd)
            .view(b, _config.NumAttentionHeads, s, hd).transpose(1, 2).reshape(b, s, _config.NumAttentionHeads * hd);
        return scope.MoveToOuter(o_proj.call(output));
    }

    /// <summary>
    /// The dtype the fused attention core runs in for these inputs, or null for the eager path: training and
    /// evaluation forwards (no KV cache; generation keeps the eager path) on the CPU, in float32 or bfloat16 (the
    /// autocast dtype under autocast, else q's, k's and v's common one), a bool mask, and no attention dropout (its
    /// mask would be drawn over the probabilities the core never forms).
    /// </summary>
    private ScalarType? FusedCoreType(Tensor q, Tensor k, Tensor v, Tensor allowed, KvCache? cache)
    {
        if (!FusedKernels.Enabled || cache is not null || (training && _config.AttentionDropout > 0) || allowed.dtype != ScalarType.Bool
            || q.device.type != DeviceType.CPU || k.device.type != DeviceType.CPU || v.device.type != DeviceType.CPU || allowed.device.type != DeviceType.CPU)
            return null;
        ScalarType type;
        if (is_autocast_enabled(DeviceType.CPU))
            type = get_autocast_dtype(DeviceType.CPU);
        else if (q.dtype == k.dtype && k.dtype == v.dtype)
            type = q.dtype;
        else
            return null;
        // Float32 runs the core's query blocks; bfloat16 its whole-head variant, whose products are oneDNN's batched
        // matmuls as on the eager path (the blocks' float32 products lost to them) but which keeps no probabilities.
        // Against the eager products with the fused softmax (LoRA bf16, Qwen3-0.6B shape, sequence 512, alternating
        // runs): 8 layers 208–229 tokens/s against 209–224, peak 1.12 GB against 1.19; all 28 layers 2.38 GB
        // against 2.65 at the same speed.
        return type is ScalarType.Float32 or ScalarType.BFloat16 ? type : null;
    }

    /// <summary>Whether the shim's fused masked softmax takes these: CPU scores and result in float32 or bfloat16, a bool mask.</summary>
    private static bool FusedSoftmax(Tensor scores, ScalarType resultType, Tensor allowed) =>
        FusedKernels.Enabled && scores.device.type == DeviceType.CPU && allowed.dtype == ScalarType.Bool
        && scores.dtype is ScalarType.Float32 or ScalarType.BFloat16 && resultType is ScalarType.Float32 or ScalarType.BFloat16;

    /// <summary>torch.finfo(dtype).min: the additive mask value HF uses.</summary>
    public static double MinValue(ScalarType dtype) => dtype switch
    {
        ScalarType.Float16 => -65504.0,
        ScalarType.BFloat16 => -3.3895313892515355e38,
        ScalarType.Float64 => double.MinValue,
        _ => float.MinValue,
    };

    /// <summary>Replaces a projection (q_proj, k_proj, v_proj, o_proj) and returns the old module.</summary>
    public nn.Module<Tensor, Tensor> ReplaceProjection(string name, nn.Module<Tensor, Tensor> module)
    {
        var old = (nn.Module<Tensor, Tensor>)replace_module(name, module);
        switch (name)
        {
            case "q_proj": q_proj = module; break;
            case "k_proj": k_proj = module; break;
            case "v_proj": v_proj = module; break;
            case "o_proj": o_proj = module; break;
            default: throw new ArgumentException($"unknown projection {name}", nameof(name));
        }
        return old;
    }
}
