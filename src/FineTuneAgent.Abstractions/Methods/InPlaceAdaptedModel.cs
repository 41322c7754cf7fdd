using FineTuneAgent.Modeling.Layers;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Abstractions.Methods;

/// <summary>
/// A method that trains the model's own weights (Freeze, Full): there is no separate delta, so
/// the model is always "merged", and its optimiser groups are the Trainer's decay split.
/// </summary>
public abstract class InPlaceAdaptedModel(CausalLM model, MethodSettings settings) : AdaptedModel(model, settings)
{
    public override IReadOnlyList<optim.ParamGroup> ParameterGroups(double learningRate, double weightDecay) =>
        ParameterGrouping.DecayAndNoDecay(TrainableParameters, learningRate, weightDecay);

    public override bool IsMerged => true;

    public override void Merge()
    {
    }

    public override void Unmerge()
    {
    }
}
