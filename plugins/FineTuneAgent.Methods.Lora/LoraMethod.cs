namespace FineTuneAgent.Methods.Lora;

/// <summary>LoRA: low-rank adapters on the chosen projections, the base frozen; saved as a PEFT adapter.</summary>
public sealed class LoraMethod() : LoraFamilyMethod("lora", useDora: false)
{
    public override string Description => "LoRA: trains low-rank A·B updates of the chosen linear layers; the base stays frozen (PEFT adapter)";
}
