using System.Text.RegularExpressions;
using FineTuneAgent.Torch.Modules;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Abstractions.Methods;

/// <summary>
/// Optimiser groups as the Hugging Face Trainer makes them (get_decay_parameter_names): biases
/// and normalisation weights get no weight decay, everything else does.
/// </summary>
public static partial class ParameterGrouping
{
    [GeneratedRegex(@"(^|\.)bias$|layernorm|rmsnorm|(^|\.)norm($|\.)|_norm($|\.)", RegexOptions.IgnoreCase)]
    private static partial Regex NoDecayName();

    /// <summary>Whether weight decay applies to the parameter of this name.</summary>
    public static bool Decays(string name) => !NoDecayName().IsMatch(name);

    /// <summary>A decay group and a no-decay group (either left out when empty).</summary>
    public static IReadOnlyList<optim.ParamGroup> DecayAndNoDecay(IEnumerable<(string Name, Parameter Parameter)> trainable, double learningRate, double weightDecay)
    {
        var list = trainable.ToList();
        var groups = new List<optim.ParamGroup>();
        var decay = list.Where(p => Decays(p.Name)).Select(p => p.Parameter).ToList();
        var noDecay = list.Where(p => !Decays(p.Name)).Select(p => p.Parameter).ToList();
        if (decay.Count > 0) groups.Add(new optim.ParamGroup(decay, learningRate, weightDecay));
        if (noDecay.Count > 0) groups.Add(new optim.ParamGroup(noDecay, learningRate, 0));
        return groups;
    }
}
