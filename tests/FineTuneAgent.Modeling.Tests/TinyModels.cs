using System.Text.Json.Nodes;
using FineTuneAgent.Modeling.Config;

namespace FineTuneAgent.Modeling.Tests;

/// <summary>Small configs that exercise every architectural switch (GQA, tied or not, llama3 rope, q/k norm).</summary>
internal static class TinyModels
{
    public static JsonObject Qwen3Json(bool tied = true) => new()
    {
        ["architectures"] = new JsonArray("Qwen3ForCausalLM"),
        ["model_type"] = "qwen3",
        ["vocab_size"] = 97,
        ["hidden_size"] = 48,
        ["intermediate_size"] = 80,
        ["num_hidden_layers"] = 2,
        ["num_attention_heads"] = 4,
        ["num_key_value_heads"] = 2,
        ["head_dim"] = 16,                       // nH*hd = 64 ≠ hidden, as in Qwen3-0.6B
        ["max_position_embeddings"] = 256,
        ["rms_norm_eps"] = 1e-6,
        ["rope_theta"] = 1000000.0,
        ["tie_word_embeddings"] = tied,
        ["bos_token_id"] = 1,
        ["eos_token_id"] = 2,
        ["torch_dtype"] = "float32",
        // Larger than HF's 0.02 so attention is far from uniform and positions (RoPE, masks) matter.
        ["initializer_range"] = 0.3,
    };

    public static JsonObject LlamaJson(bool tied = false, bool llama3Rope = true) => new()
    {
        ["architectures"] = new JsonArray("LlamaForCausalLM"),
        ["model_type"] = "llama",
        ["vocab_size"] = 101,
        ["hidden_size"] = 64,
        ["intermediate_size"] = 96,
        ["num_hidden_layers"] = 2,
        ["num_attention_heads"] = 4,
        ["num_key_value_heads"] = 1,
        ["max_position_embeddings"] = 512,
        ["rms_norm_eps"] = 1e-5,
        ["rope_theta"] = 500000.0,
        ["rope_scaling"] = llama3Rope
            ? new JsonObject { ["rope_type"] = "llama3", ["factor"] = 8.0, ["low_freq_factor"] = 1.0, ["high_freq_factor"] = 4.0, ["original_max_position_embeddings"] = 64 }
            : null,
        ["tie_word_embeddings"] = tied,
        ["bos_token_id"] = 1,
        ["eos_token_id"] = new JsonArray(2, 3),
        ["torch_dtype"] = "float32",
        ["initializer_range"] = 0.3,
    };

    public static ModelConfig Parse(JsonObject json) => ModelConfigReader.Parse(json, "config.json");
}
