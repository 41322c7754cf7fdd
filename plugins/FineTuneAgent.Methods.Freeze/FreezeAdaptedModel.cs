using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Modeling.Layers;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Methods.Freeze;

/// <summary>A model whose chosen layers and modules train and everything else is frozen.</summary>
public sealed class FreezeAdaptedModel : InPlaceAdaptedModel
{
    public const string WeightsFile = "trained_tensors.safetensors";

    private FreezeAdaptedModel(CausalLM model, FreezeSettings settings) : base(model, settings)
    {
    }

    public static FreezeAdaptedModel Apply(CausalLM model, FreezeSettings settings)
    {
        var layers = settings.LayerIndices(model.Config.NumHiddenLayers).Select(i => $"model.layers.{i}.").ToList();
        if (settings.TrainableModules is { } modules)
        {
            var names = model.model.layers[0].named_parameters().Select(p => p.name).ToList();
            foreach (var m in modules)
                if (!names.Any(n => n.StartsWith(m + ".", StringComparison.Ordinal) || n.Contains("." + m + ".", StringComparison.Ordinal)))
                    throw new MethodSettingsException(settings.Method, "freeze_trainable_modules", $"\"{m}\" names no module of a decoder layer (e.g. {string.Join(", ", names.Take(4))})");
        }
        var extras = settings.ExtraModules.Select(e => e switch
        {
            "embed_tokens" => "model.embed_tokens.",
            "norm" => "model.norm.",
            // A tied output layer is the embedding matrix itself.
            _ => model.lm_head is null ? "model.embed_tokens." : "lm_head.",
        }).ToList();
        foreach (var (name, p) in model.named_parameters())
        {
            var layer = layers.FirstOrDefault(l => name.StartsWith(l, StringComparison.Ordinal));
            p.requires_grad = (layer is not null && settings.TrainsInLayer(name[layer.Length..]))
                || extras.Any(e => name.StartsWith(e, StringComparison.Ordinal));
        }
        return new FreezeAdaptedModel(model, settings);
    }

    public override void Save(string directory, AdapterSaveOptions options)
    {
        Directory.CreateDirectory(directory);
        var tensors = TrainableParameters.ToDictionary(p => p.Name, p => (Tensor)p.Parameter);
        Safetensors.Save(Path.Combine(directory, WeightsFile), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        MethodRecord.Write(directory, Settings, options, WeightsFile);
    }

    /// <summary>Applies the saved settings and copies the saved tensors in; every tensor must be one the settings train.</summary>
    public static FreezeAdaptedModel Load(CausalLM model, string directory)
    {
        var (settings, weightsFile) = MethodRecord.ReadSettings(directory, "freeze", FreezeSettings.Read);
        var adapted = Apply(model, settings);
        var path = Path.Combine(directory, weightsFile);
        using var reader = Safetensors.Open(path);
        var trainable = adapted.TrainableParameters.ToDictionary(p => p.Name, p => p.Parameter);
        foreach (var name in reader.Names)
            if (!trainable.ContainsKey(name))
                throw new InvalidDataException($"{path}: tensor '{name}' is not a parameter the saved freeze settings train");
        using var _ = no_grad();
        foreach (var (name, p) in trainable)
        {
            if (!reader.Contains(name))
                throw new InvalidDataException($"{path}: trained tensor '{name}' is missing");
            using var value = reader.Load(name);
            if (!value.shape.SequenceEqual(p.shape))
                throw new InvalidDataException($"{path}: tensor '{name}' has shape [{string.Join(", ", value.shape)}], the model expects [{string.Join(", ", p.shape)}]");
            p.copy_(value);
        }
        return adapted;
    }
}
