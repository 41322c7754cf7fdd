using FineTuneAgent.Torch;
using FineTuneAgent.Torch.Modules;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Layers;

/// <summary>
/// RMSNorm as Qwen3RMSNorm / LlamaRMSNorm: normalise in float32, cast back to the input dtype,
/// then scale by the weight (initialised to ones).
/// </summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly double _eps;

    public RmsNorm(long size, double eps, ScalarType? dtype = null) : base(nameof(RmsNorm))
    {
        _eps = eps;
        weight = new Parameter(ones([size], dtype));
        register_parameter("weight", weight);
    }

    public Parameter weight { get; }

    public override Tensor forward(Tensor input)
    {
        // One pass each way on the CPU, saving only the input and one float per row for backward.
        if (FusedKernels.Enabled && fused.Fusable(input, weight))
            return fused.rms_norm(input, weight, _eps);
        using var scope = NewDisposeScope();
        var x = input.to_type(ScalarType.Float32);
        var variance = x.pow(2).mean(-1, keepdim: true);
        var normed = x * (variance + _eps).rsqrt();
        var result = weight * normed.to_type(input.dtype);
        return scope.MoveToOuter(result);
    }
}
