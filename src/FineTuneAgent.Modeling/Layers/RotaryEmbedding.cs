using FineTuneAgent.Modeling.Config;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Layers;

/// <summary>
/// Rotary position embeddings in HF's half-split layout: dimension i turns with i + d/2 at angle
/// position · inv_freq[i]. inv_freq follows the config's rope_scaling (default, linear, llama3).
/// </summary>
public sealed class RotaryEmbedding : IDisposable
{
    private Tensor _invFreq;   // (d/2) float32, on the device of the last positions it turned

    public RotaryEmbedding(ModelConfig config, Device? device = null)
    {
        var freqs = InverseFrequencies(config);
        using var cpu = tensor(freqs.Select(f => (float)f).ToArray());
        _invFreq = cpu.to(device ?? CPU).DetachFromDisposeScope();
    }

    /// <summary>
    /// inv_freq on <paramref name="device"/>: not a module buffer (it is derived from the config, never saved), so a
    /// model moved with <c>to(device)</c> leaves it behind; it follows the positions once, on their first forward there.
    /// </summary>
    private Tensor InvFreqOn(Device device)
    {
        if (_invFreq.device.Equals(device))
            return _invFreq;
        var moved = _invFreq.to(device).DetachFromDisposeScope();
        _invFreq.Dispose();
        return _invFreq = moved;
    }

    /// <summary>inv_freq per rotated pair, in double, after rope scaling (FACTS §2.2, §3.3).</summary>
    public static double[] InverseFrequencies(ModelConfig config)
    {
        var d = config.HeadDim;
        var inv = new double[d / 2];
        for (var i = 0; i < inv.Length; i++)
            inv[i] = 1.0 / Math.Pow(config.RopeTheta, 2.0 * i / d);
        switch (config.RopeScaling)
        {
            case null:
                return inv;
            case { RopeType: "linear" } s:
                return inv.Select(f => f / s.Factor).ToArray();
            case { RopeType: "llama3" } s:
                var lowFreqWavelen = s.OriginalMaxPositionEmbeddings / s.LowFreqFactor;
                var highFreqWavelen = s.OriginalMaxPositionEmbeddings / s.HighFreqFactor;
                return inv.Select(f =>
                {
                    var wavelen = 2 * Math.PI / f;
                    if (wavelen < highFreqWavelen)
                        return f;
                    if (wavelen > lowFreqWavelen)
                        return f / s.Factor;
                    var smooth = (s.OriginalMaxPositionEmbeddings / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                    return (1 - smooth) * f / s.Factor + smooth * f;
                }).ToArray();
            default:
                throw new ModelConfigException($"rope_scaling type \"{config.RopeScaling.RopeType}\" is not supported");
        }
    }

    /// <summary>cos and sin of shape (B, S, d) for position ids (B, S), in the given dtype.</summary>
    public (Tensor cos, Tensor sin) CosSin(Tensor positionIds, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var pos = positionIds.to_type(ScalarType.Float32).unsqueeze(-1);     // (B, S, 1)
        var freqs = pos * InvFreqOn(positionIds.device);                      // (B, S, d/2)
        var emb = cat([freqs, freqs], -1);                                    // (B, S, d)
        var cos = emb.cos().to_type(dtype);
        var sin = emb.sin().to_type(dtype);
        return (scope.MoveToOuter(cos), scope.MoveToOuter(sin));
    }

    /// <summary>
    /// <see cref="Apply"/> for x laid out (B, S, heads, d) as the projections give it; returns (B, heads, S, d).
    /// On the CPU one fused pass (the same roundings as the eager ops); elsewhere the eager ops.
    /// </summary>
    public static Tensor ApplyToProjection(Tensor x, Tensor cos, Tensor sin)
    {
        if (FusedKernels.Enabled && fused.Fusable(x, cos) && cos.dtype == sin.dtype)
        {
            using var rotated = fused.rotary(x, cos, sin);
            return rotated.transpose(1, 2);
        }
        using var heads = x.transpose(1, 2);
        return Apply(heads, cos, sin);
    }

    /// <summary>
    /// <see cref="ApplyToProjection"/> keeping the projections' layout: x (B, S, heads, d) → (B, S, heads, d), contiguous
    /// when fused, which is how the fused attention takes q and k.
    /// </summary>
    public static Tensor ApplyInProjectionLayout(Tensor x, Tensor cos, Tensor sin)
    {
        if (FusedKernels.Enabled && fused.Fusable(x, cos) && cos.dtype == sin.dtype)
            return fused.rotary(x, cos, sin);
        using var heads = x.transpose(1, 2);
        using var rotated = Apply(heads, cos, sin);
        return rotated.transpose(1, 2);
    }

    /// <summary>x·cos + rotate_half(x)·sin for x of shape (B, heads, S, d); cos/sin (B, S, d).</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        var half = x.size(-1) / 2;
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        var rotated = cat([-x2, x1], -1);
        var c = cos.unsqueeze(1);
        var s = sin.unsqueeze(1);
        var result = x * c + rotated * s;
        return scope.MoveToOuter(result);
    }

    public void Dispose() => _invFreq.Dispose();
}
