using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Torch.Modules;

/// <summary>y = x Wᵀ + b. Weight (out, in) and bias initialised as PyTorch's nn.Linear.</summary>
public sealed class Linear : nn.Module<Tensor, Tensor>
{
    public Linear(long inputSize, long outputSize, bool hasBias = true, Device? device = null, ScalarType? dtype = null) : base(nameof(Linear))
    {
        in_features = inputSize;
        out_features = outputSize;
        weight = new Parameter(empty([outputSize, inputSize], dtype, device));
        nn.init.kaiming_uniform_(weight, a: Math.Sqrt(5));
        register_parameter("weight", weight);
        if (hasBias)
        {
            var bound = inputSize > 0 ? 1.0 / Math.Sqrt(inputSize) : 0;
            bias = new Parameter(empty([outputSize], dtype, device));
            nn.init.uniform_(bias, -bound, bound);
            register_parameter("bias", bias);
        }
    }

    public long in_features { get; }

    public long out_features { get; }

    public Parameter weight { get; }

    public Parameter? bias { get; }

    public override Tensor forward(Tensor input) => nn.functional.linear(input, weight, bias);
}
