using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Modeling.Checkpoints;
using FineTuneAgent.Modeling.Layers;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Methods.Full;

/// <summary>Every parameter trains; saving writes a whole Hugging Face checkpoint.</summary>
public sealed class FullAdaptedModel : InPlaceAdaptedModel
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

    /// <summary>config.json, generation-free weights (model.safetensors, sharded above 5 GB) and fta_method.json.</summary>
    public override void Save(string directory, AdapterSaveOptions options)
    {
        Checkpoint.Save(Model, directory);
        MethodRecord.Write(directory, Settings, options, "model.safetensors");
    }

    public static FullAdaptedModel Load(CausalLM model, string directory)
    {
        var (settings, _) = MethodRecord.ReadSettings(directory, "full", FullSettings.Read);
        Checkpoint.LoadWeights(model, directory);
        return Apply(model, settings);
    }
}
