using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Torch.Modules;

/// <summary>Dropout in training mode, identity in eval mode.</summary>
public sealed class Dropout(double p = 0.5) : nn.Module<Tensor, Tensor>(nameof(Dropout))
{
    public double p { get; } = p;

    /// <summary>A new tensor either way, so callers can dispose the result without touching the input.</summary>
    public override Tensor forward(Tensor input) => nn.functional.dropout(input, p, training && p > 0);
}
