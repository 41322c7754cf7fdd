using FineTuneAgent.Methods.Lora;

namespace FineTuneAgent.Methods.Dora;

/// <summary>
/// DoRA (Liu et al. 2024): LoRA's direction update plus a trained magnitude per output row,
/// y = m ⊙ (W + s·B A) x / ‖W + s·B A‖_row, the norm detached as PEFT does; saved as a PEFT
/// adapter with use_dora and lora_magnitude_vector keys.
/// </summary>
public sealed class DoraMethod() : LoraFamilyMethod("dora", useDora: true)
{
    public override string Description => "DoRA: LoRA plus a trained magnitude per output row (PEFT adapter with use_dora)";
}
