using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Export.Gguf;

/// <summary>
/// llama.cpp runs the llama architecture with rotary on adjacent pairs (LLAMA_ROPE_TYPE_NORM)
/// while HF rotates dimension i with i + d/2, so its converter reorders the rows of q_proj and
/// k_proj within each head: new row 2i + j = old row j·(d/2) + i (convert_hf_to_gguf.py
/// LlamaModel.permute: reshape(n_head, 2, d/2, …).swapaxes(1, 2)). Qwen3 runs NEOX rotary, HF's
/// own layout, and is not permuted.
/// </summary>
public static class LlamaRotaryPermutation
{
    /// <summary>The permuted rows of a [heads·d, …] weight, bias or LoRA B; a new tensor.</summary>
    public static Tensor Permute(Tensor rows, int heads)
    {
        var shape = rows.shape;
        if (shape[0] % (2L * heads) != 0)
            throw new ArgumentException($"cannot permute {shape[0]} rows into {heads} heads of even size");
        var split = new long[shape.Length + 2];
        split[0] = heads;
        split[1] = 2;
        split[2] = shape[0] / heads / 2;
        for (var i = 1; i < shape.Length; i++)
            split[i + 2] = shape[i];
        using var grouped = rows.reshape(split);
        using var swapped = grouped.transpose(1, 2);
        using var contiguous = swapped.contiguous();
        return contiguous.reshape(shape);
    }
}
