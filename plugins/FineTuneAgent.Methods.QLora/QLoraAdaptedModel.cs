using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Methods.Lora;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Methods.QLora;

/// <summary>
/// LoRA over a quantized base. Merging dequantizes each projection, adds the update and
/// quantizes again (lossy, as PEFT's merge into bitsandbytes layers); export of a merged
/// full-precision model should instead apply the saved adapter to the original weights.
/// </summary>
public sealed class QLoraAdaptedModel(LoraAdaptedModel lora, QLoraSettings settings) : AdaptedModel(lora.Model, settings)
{
    public LoraAdaptedModel Lora { get; } = lora;

    public override IReadOnlyList<optim.ParamGroup> ParameterGroups(double learningRate, double weightDecay) => Lora.ParameterGroups(learningRate, weightDecay);

    public override bool IsMerged => Lora.IsMerged;

    public override void Merge() => Lora.Merge();

    public override void Unmerge() => Lora.Unmerge();

    public override void Save(string directory, AdapterSaveOptions options)
    {
        Lora.Save(directory, options);
        MethodRecord.Write(directory, Settings, options, PeftAdapter.WeightsFile);
    }
}
