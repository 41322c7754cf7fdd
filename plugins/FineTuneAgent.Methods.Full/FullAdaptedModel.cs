using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Modeling.Checkpoints;
using FineTuneAgent.Modeling.Layers;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Methods.Full;

/// <summary>Every parameter trains; saving writes a whole Hugging Face checkpoint.</summary>
public sealed class FullAdaptedModel : AdaptedModel
{
    private FullAdaptedModel(CausalLM model, FullSettings settings) : base(model, settings)
    {
    }

    public static FullAdaptedModel Apply(CausalLM model, FullSettings settings)
    {
        foreach (var p in model.parameters())
            p.requires_grad = true;
        return new FullAdaptedModel(model, settings);
    }

    public override IReadOnlyList<optim.ParamGroup> ParameterGroups(double learningRate, double weightDecay) =>
        ParameterGrouping.DecayAndNoDecay(TrainableParameters, learningRate, weightDecay);

    public override bool IsMerged => true;

    public override void Merge()
    {
    }

    public override void Unmerge()
    {
    }

    /// <summary>config.json, generation-free weights (model.safetensors, sharded above 5 GB) and fta_method.json.</summary>
    public override void Save(string directory, AdapterSaveOptions options)
    {
        Checkpoint.Save(Model, directory);
        MethodRecord.Write(directory, Settings, options, "model.safetensors");
    }

    public static FullAdaptedModel Load(CausalLM model, string directory)
    {
        var (json, _) = MethodRecord.Read(directory, "full");
        FullSettings settings;
        try
        {
            settings = FullSettings.Read(json);
        }
        catch (MethodSettingsException e)
        {
            throw new InvalidDataException($"{Path.Combine(directory, MethodRecord.FileName)}: {e.Message}", e);
        }
        Checkpoint.LoadWeights(model, directory);
        return Apply(model, settings);
    }
}
