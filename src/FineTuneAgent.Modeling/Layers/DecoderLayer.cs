using FineTuneAgent.Modeling.Config;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Layers;

/// <summary>Pre-norm decoder layer: h = x + attn(norm(x)); out = h + mlp(norm(h)).</summary>
public sealed class DecoderLayer : nn.Module
{
    public DecoderLayer(ModelConfig config, int index, ScalarType? dtype) : base(nameof(DecoderLayer))
    {
        input_layernorm = new RmsNorm(config.HiddenSize, config.RmsNormEps, dtype);
        self_attn = new Attention(config, index, dtype);
        post_attention_layernorm = new RmsNorm(config.HiddenSize, config.RmsNormEps, dtype);
        mlp = new Mlp(config, dtype);
        register_module("input_layernorm", input_layernorm);
        register_module("self_attn", self_attn);
        register_module("post_attention_layernorm", post_attention_layernorm);
        register_module("mlp", mlp);
    }

    public RmsNorm input_layernorm { get; }
    public Attention self_attn { get; }
    public RmsNorm post_attention_layernorm { get; }
    public Mlp mlp { get; }

    public Tensor forward(Tensor x, Tensor cos, Tensor sin, Tensor allowed, KvCache? cache)
    {
        using var scope = NewDisposeScope();
        var h = x + self_attn.forward(input_layernorm.call(x), cos, sin, allowed, cache);
        var output = h + mlp.call(post_attention_layernorm.call(h));
        return scope.MoveToOuter(output);
    }
}
