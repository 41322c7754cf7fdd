using System.Text.RegularExpressions;

namespace FineTuneAgent.Abstractions.Templates;

/// <summary>
/// The literal HF → GGUF tensor-name table shared by the llama and qwen3 architectures
/// (llama.cpp gguf-py TENSOR_NAMES / tensor_mapping.py; FACTS §8.5).
/// </summary>
public static partial class HfToGgufNames
{
    private static readonly Dictionary<string, string> Global = new()
    {
        ["model.embed_tokens.weight"] = "token_embd.weight",
        ["model.norm.weight"] = "output_norm.weight",
        ["lm_head.weight"] = "output.weight",
    };

    private static readonly Dictionary<string, string> PerLayer = new()
    {
        ["input_layernorm.weight"] = "attn_norm.weight",
        ["self_attn.q_proj.weight"] = "attn_q.weight",
        ["self_attn.k_proj.weight"] = "attn_k.weight",
        ["self_attn.v_proj.weight"] = "attn_v.weight",
        ["self_attn.o_proj.weight"] = "attn_output.weight",
        ["self_attn.q_proj.bias"] = "attn_q.bias",
        ["self_attn.k_proj.bias"] = "attn_k.bias",
        ["self_attn.v_proj.bias"] = "attn_v.bias",
        ["self_attn.o_proj.bias"] = "attn_output.bias",
        ["self_attn.q_norm.weight"] = "attn_q_norm.weight",
        ["self_attn.k_norm.weight"] = "attn_k_norm.weight",
        ["post_attention_layernorm.weight"] = "ffn_norm.weight",
        ["mlp.gate_proj.weight"] = "ffn_gate.weight",
        ["mlp.up_proj.weight"] = "ffn_up.weight",
        ["mlp.down_proj.weight"] = "ffn_down.weight",
    };

    [GeneratedRegex(@"^model\.layers\.(\d+)\.(.+)$")]
    private static partial Regex LayerName();

    /// <summary>The GGUF name of an HF tensor, or null when the table has none.</summary>
    public static string? Map(string hfName)
    {
        if (Global.TryGetValue(hfName, out var g))
            return g;
        var m = LayerName().Match(hfName);
        return m.Success && PerLayer.TryGetValue(m.Groups[2].Value, out var local) ? $"blk.{m.Groups[1].Value}.{local}" : null;
    }
}
