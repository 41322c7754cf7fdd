using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Abstractions.Templates;
using FineTuneAgent.Methods.Lora;
using FineTuneAgent.Modeling.Adapters;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Layers;
using FineTuneAgent.Modeling.Quantization;
using FineTuneAgent.Torch.Modules;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Methods.QLora;

/// <summary>
/// QLoRA (Dettmers et al. 2023): every decoder-layer projection is stored 4-bit NF4 (or 8-bit
/// row-wise) and dequantized on the fly; LoRA adapters train on top in the adapter dtype. The
/// embeddings, norms and output layer stay unquantized, as transformers does. Saved as a PEFT
/// adapter, plus fta_method.json recording the quantization.
/// </summary>
public sealed class QLoraMethod : IFineTuneMethod
{
    public string Name => "qlora";

    public string Description => "QLoRA: LoRA over a 4-bit NF4 (or 8-bit) frozen base, dequantized on the fly (PEFT adapter)";

    public MethodSettings ParseSettings(JsonObject? settings) => QLoraSettings.Read(settings);

    public MemoryEstimate EstimateMemory(ModelConfig config, TrainingShape shape, MethodSettings settings)
    {
        var s = Expect(settings);
        return LoraMemory.Estimate(config, shape, s.Lora, s.Storage);
    }

    public AdaptedModel Adapt(CausalLM model, IModelTemplate template, MethodSettings settings)
    {
        var s = Expect(settings);
        CheckPrequantized(model, s);
        return new QLoraAdaptedModel(LoraAdaptedModel.Inject(model, s.Lora, Quantizer(s)), s);
    }

    /// <summary>A model loaded already quantized (the QuantizerStage's cache) must be stored as the settings say.</summary>
    private static void CheckPrequantized(CausalLM model, QLoraSettings s)
    {
        foreach (var slot in ProjectionSlot.Of(model))
        {
            var matches = slot.Module switch
            {
                Linear => true,
                Nf4Linear q => s.QuantType == "nf4" && q.QuantizedWeight.Blocksize == s.BlockSize && q.QuantizedWeight.DoubleQuantized == s.DoubleQuant,
                Int8Linear => s.QuantType == "int8",
                _ => true, // Inject reports other modules
            };
            if (!matches)
                throw new MethodSettingsException("qlora", "quant_type", $"the model was loaded with {slot.Name} stored as {slot.Module.GetType().Name}, which differs from quant_type {s.QuantType} / blocksize {s.BlockSize} / double_quant {s.DoubleQuant}");
        }
    }

    public AdaptedModel Load(CausalLM model, IModelTemplate template, string directory)
    {
        // The adapter config says nothing about the base's storage; our own saves record it.
        var s = File.Exists(Path.Combine(directory, MethodRecord.FileName))
            ? MethodRecord.ReadSettings(directory, Name, QLoraSettings.Read).Settings
            : QLoraSettings.Read(null);
        CheckPrequantized(model, s);
        var loaded = PeftAdapter.Load(model, directory, Name, Quantizer(s));
        return new QLoraAdaptedModel(loaded, s with { Lora = loaded.Settings });
    }

    /// <summary>Replaces one projection by its quantized copy and frees the full-precision one, layer by layer.</summary>
    private static Func<ProjectionSlot, Linear, nn.Module<Tensor, Tensor>> Quantizer(QLoraSettings s) => (slot, linear) =>
    {
        nn.Module<Tensor, Tensor> quantized = s.QuantType == "nf4"
            ? new Nf4Linear(linear, s.BlockSize, s.DoubleQuant)
            : new Int8Linear(linear);
        linear.Dispose();
        return quantized;
    };

    private static QLoraSettings Expect(MethodSettings settings) =>
        settings as QLoraSettings ?? throw new ArgumentException($"settings of method '{settings.Method}' given to 'qlora'", nameof(settings));
}
