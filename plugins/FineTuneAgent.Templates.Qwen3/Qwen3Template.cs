using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Templates;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Layers;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Templates.Qwen3;

/// <summary>Qwen3 dense models (Qwen3ForCausalLM): q/k norm, NEOX rotary, ChatML with &lt;think&gt;.</summary>
public sealed class Qwen3Template : IModelTemplate
{
    public string Name => "qwen3";

    public IReadOnlyList<string> ModelTypes { get; } = ["qwen3"];

    public CausalLM BuildModel(ModelConfig config, ScalarType dtype, bool initialize) => new(config, dtype, initialize);

    public string ChatFormatFor(ModelConfig config) => "qwen3";

    // LLaMA-Factory's lora_target "all" on Qwen3: every linear layer of the decoder.
    public IReadOnlyList<string> DefaultLoraTargets { get; } = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    public IReadOnlyList<string> BuiltInSizes { get; } = ["tiny", "small"];

    /// <summary>
    /// tiny: trains in seconds on 2 CPU cores; small: Qwen3-0.6B's width and head layout with 4
    /// layers. Both keep the real 151,936-row vocabulary so the real tokenizer fits.
    /// </summary>
    public JsonObject BuiltInConfig(string size) => size switch
    {
        "tiny" => Config(hidden: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 32, intermediate: 192),
        "small" => Config(hidden: 1024, layers: 4, heads: 16, kvHeads: 8, headDim: 128, intermediate: 3072),
        _ => throw new ArgumentException($"unknown size '{size}' for qwen3 (tiny, small)", nameof(size)),
    };

    private static JsonObject Config(int hidden, int layers, int heads, int kvHeads, int headDim, int intermediate) => new()
    {
        ["architectures"] = new JsonArray("Qwen3ForCausalLM"),
        ["model_type"] = "qwen3",
        ["vocab_size"] = 151936,
        ["hidden_size"] = hidden,
        ["intermediate_size"] = intermediate,
        ["num_hidden_layers"] = layers,
        ["num_attention_heads"] = heads,
        ["num_key_value_heads"] = kvHeads,
        ["head_dim"] = headDim,
        ["hidden_act"] = "silu",
        ["max_position_embeddings"] = 40960,
        ["max_window_layers"] = layers,
        ["rms_norm_eps"] = 1e-6,
        ["rope_theta"] = 1000000,
        ["rope_scaling"] = null,
        ["attention_bias"] = false,
        ["attention_dropout"] = 0.0,
        ["use_sliding_window"] = false,
        ["sliding_window"] = null,
        ["tie_word_embeddings"] = true,
        ["initializer_range"] = 0.02,
        ["bos_token_id"] = 151643,
        ["eos_token_id"] = 151645,
        ["use_cache"] = true,
        ["torch_dtype"] = "float32",
    };

    /// <summary>Qwen3-0.6B's generation_config.json.</summary>
    public JsonObject BuiltInGenerationConfig() => new()
    {
        ["bos_token_id"] = 151643,
        ["do_sample"] = true,
        ["eos_token_id"] = new JsonArray(151645, 151643),
        ["pad_token_id"] = 151643,
        ["temperature"] = 0.6,
        ["top_k"] = 20,
        ["top_p"] = 0.95,
    };

    public string BuiltInTokenizer => "qwen3";

    public string GgufArchitecture => "qwen3";

    public string GgufPreTokenizer(ModelConfig config) => "qwen2";

    public string? GgufTensorName(string hfName) => HfToGgufNames.Map(hfName);

    public bool GgufPermutesQueryKey => false;
}
