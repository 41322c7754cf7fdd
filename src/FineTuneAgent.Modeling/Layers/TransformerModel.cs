using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Torch.Modules;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Layers;

/// <summary>The rotary cos/sin and the allowed-keys mask that every decoder layer of one forward uses.</summary>
public readonly record struct SharedLayerInputs(Tensor Cos, Tensor Sin, Tensor Allowed);

/// <summary>The decoder stack (HF's Qwen3Model / LlamaModel): embeddings, layers, final norm.</summary>
public sealed class TransformerModel : nn.Module
{
    private readonly ModelConfig _config;
    private readonly RotaryEmbedding _rotary;

    public TransformerModel(ModelConfig config, ScalarType? dtype) : base(nameof(TransformerModel))
    {
        _config = config;
        embed_tokens = new Embedding(config.VocabSize, config.HiddenSize, config.PadTokenId is { } p && p < config.VocabSize ? p : null, dtype: dtype);
        layers = new ModuleList<DecoderLayer>();
        for (var i = 0; i < config.NumHiddenLayers; i++)
            layers.Add(new DecoderLayer(config, i, dtype));
        norm = new RmsNorm(config.HiddenSize, config.RmsNormEps, dtype);
        register_module("embed_tokens", embed_tokens);
        register_module("layers", layers);
        register_module("norm", norm);
        _rotary = new RotaryEmbedding(config);
    }

    public Embedding embed_tokens { get; }
    public ModuleList<DecoderLayer> layers { get; }
    public RmsNorm norm { get; }

    /// <summary>
    /// Hidden states (B, S, H) for input ids (B, S). attentionMask (B, P+S), 1 for real tokens,
    /// covers cached and new positions; without position ids they are counted from the mask
    /// (so left-padded rows start at 0) or from the cache length. Explicit position ids that go
    /// back to 0 inside a row mark packed examples: each token then attends only to earlier tokens
    /// of its own example (block-diagonal causal attention, as HF does for position_ids packing).
    /// </summary>
    public Tensor forward(Tensor inputIds, Tensor? attentionMask = null, KvCache? cache = null, Tensor? positionIds = null)
    {
        using var scope = NewDisposeScope();
        var hidden = embed_tokens.call(inputIds);
        var shared = LayerInputs(inputIds, attentionMask, cache?.Length ?? 0, positionIds, hidden.dtype);
        foreach (var layer in layers)
            hidden = layer.forward(hidden, shared.Cos, shared.Sin, shared.Allowed, cache);
        return scope.MoveToOuter(norm.call(hidden));
    }

    /// <summary>
    /// What every decoder layer of one forward over input ids (B, S) shares: the rotary cos/sin of the
    /// positions and the (B, 1, S, P+S) keys each query may attend to. The tensors belong to the caller's
    /// dispose scope.
    /// </summary>
    public SharedLayerInputs LayerInputs(Tensor inputIds, Tensor? attentionMask, long past, Tensor? positionIds, ScalarType dtype)
    {
        var shape = inputIds.shape;
        long b = shape[0], s = shape[1];
        var total = past + s;
        if (attentionMask is not null && !attentionMask.shape.SequenceEqual([b, total]))
            throw new ArgumentException($"attention mask has shape [{string.Join(", ", attentionMask.shape)}], expected [{b}, {total}] (batch, cached + new positions)");

        var device = inputIds.device;
        var positions = positionIds ?? PositionIds(attentionMask, b, past, s, device);
        var (cos, sin) = _rotary.CosSin(positions, dtype);
        var allowed = AllowedKeys(attentionMask, b, past, s, device);
        if (positionIds is not null && past == 0)
            allowed = allowed.logical_and(SameExample(positionIds, b, s));
        return new SharedLayerInputs(cos, sin, allowed);
    }

    private static Tensor PositionIds(Tensor? attentionMask, long b, long past, long s, Device device)
    {
        if (attentionMask is null)
            return arange(past, past + s, device: device).unsqueeze(0).expand(b, s);
        var counted = attentionMask.to_type(ScalarType.Int64).cumsum(-1) - 1;
        return counted.clamp_min(0).narrow(1, past, s);
    }

    /// <summary>(B, 1, S, S) bool: tokens i and j belong to the same packed example (a new one starts where the position is 0).</summary>
    private static Tensor SameExample(Tensor positionIds, long b, long s)
    {
        var example = positionIds.eq(0).to_type(ScalarType.Int64).cumsum(-1).expand(b, s);   // (B, S)
        return example.unsqueeze(2).eq(example.unsqueeze(1)).unsqueeze(1);                   // (B, 1, S, S)
    }

    /// <summary>(B, 1, S, T) bool: query i may see key j when j ≤ past + i and key j is not padding.</summary>
    private static Tensor AllowedKeys(Tensor? attentionMask, long b, long past, long s, Device device)
    {
        var total = past + s;
        var queryPos = arange(past, total, device: device).unsqueeze(1);    // (S, 1)
        var keyPos = arange(0L, total, device: device).unsqueeze(0);        // (1, T)
        var causal = keyPos.le(queryPos);                           // (S, T)
        if (attentionMask is null)
            return causal.view(1, 1, s, total).expand(b, 1, s, total);
        var keep = attentionMask.to_type(ScalarType.Bool).view(b, 1, 1, total);
        return causal.view(1, 1, s, total).logical_and(keep);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _rotary.Dispose();
        base.Dispose(disposing);
    }
}
