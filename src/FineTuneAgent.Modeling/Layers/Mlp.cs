using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Torch;
using FineTuneAgent.Torch.Modules;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Layers;

/// <summary>SwiGLU feed-forward: down_proj(silu(gate_proj(x)) * up_proj(x)).</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    public Mlp(ModelConfig config, ScalarType? dtype) : base(nameof(Mlp))
    {
        gate_proj = new Linear(config.HiddenSize, config.IntermediateSize, config.MlpBias, dtype: dtype);
        up_proj = new Linear(config.HiddenSize, config.IntermediateSize, config.MlpBias, dtype: dtype);
        down_proj = new Linear(config.IntermediateSize, config.HiddenSize, config.MlpBias, dtype: dtype);
        register_module("gate_proj", gate_proj);
        register_module("up_proj", up_proj);
        register_module("down_proj", down_proj);
    }

    public nn.Module<Tensor, Tensor> gate_proj { get; private set; }
    public nn.Module<Tensor, Tensor> up_proj { get; private set; }
    public nn.Module<Tensor, Tensor> down_proj { get; private set; }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var gate = gate_proj.call(x);
        var up = up_proj.call(x);
        // Fused on the CPU: one pass, and backward keeps gate and up instead of also silu(gate).
        var h = FusedKernels.Enabled && gate.dtype == up.dtype && fused.Fusable(gate, up) ? fused.swiglu(gate, up) : gate.silu() * up;
        return scope.MoveToOuter(down_proj.call(h));
    }

    /// <summary>Replaces a projection (gate_proj, up_proj, down_proj) and returns the old module.</summary>
    public nn.Module<Tensor, Tensor> ReplaceProjection(string name, nn.Module<Tensor, Tensor> module)
    {
        var old = (nn.Module<Tensor, Tensor>)replace_module(name, module);
        switch (name)
        {
            case "gate_proj": gate_proj = module; break;
            case "up_proj": up_proj = module; break;
            case "down_proj": down_proj = module; break;
            default: throw new ArgumentException($"unknown projection {name}", nameof(name));
        }
        return old;
    }
}
