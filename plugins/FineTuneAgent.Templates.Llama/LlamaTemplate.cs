using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Templates;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Layers;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Templates.Llama;

/// <summary>Llama 2, 3, 3.1 and 3.2 (LlamaForCausalLM): no q/k norm, llama3 rope scaling, interleaved rotary in GGUF.</summary>
public sealed class LlamaTemplate : IModelTemplate
{
    /// <summary>Llama 3's byte-level BPE vocabulary (128,000 tokens + 256 specials); Llama 2's has 32,000.</summary>
    public const int Llama3VocabSize = 128256;

    public string Name => "llama";

    public IReadOnlyList<string> ModelTypes { get; } = ["llama"];

    public CausalLM BuildModel(ModelConfig config, ScalarType dtype, bool initialize) => new(config, dtype, initialize);

    /// <summary>
    /// Llama 2 by its 32k vocabulary; among Llama 3 models, 3.1 and later carry llama3 rope
    /// scaling (and the date-header chat template), 3.0 does not.
    /// </summary>
    public string ChatFormatFor(ModelConfig config) =>
        config.VocabSize < Llama3VocabSize ? "llama2" : config.RopeScaling is { RopeType: "llama3" } ? "llama3" : "llama3.0";

    public IReadOnlyList<string> DefaultLoraTargets { get; } = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    public IReadOnlyList<string> BuiltInSizes { get; } = ["tiny", "small"];

    /// <summary>
    /// tiny: trains in seconds on 2 CPU cores; small: Llama-3.2-1B's width and head layout with
    /// 4 layers. Both use Llama 3's vocabulary and llama3 rope scaling, as Llama 3.2 does.
    /// </summary>
    public JsonObject BuiltInConfig(string size) => size switch
    {
        "tiny" => Config(hidden: 64, layers: 2, heads: 4, kvHeads: 2, intermediate: 192),
        "small" => Config(hidden: 2048, layers: 4, heads: 32, kvHeads: 8, intermediate: 8192),
        _ => throw new ArgumentException($"unknown size '{size}' for llama (tiny, small)", nameof(size)),
    };

    private static JsonObject Config(int hidden, int layers, int heads, int kvHeads, int intermediate) => new()
    {
        ["architectures"] = new JsonArray("LlamaForCausalLM"),
        ["model_type"] = "llama",
        ["vocab_size"] = Llama3VocabSize,
        ["hidden_size"] = hidden,
        ["intermediate_size"] = intermediate,
        ["num_hidden_layers"] = layers,
        ["num_attention_heads"] = heads,
        ["num_key_value_heads"] = kvHeads,
        ["head_dim"] = hidden / heads,
        ["hidden_act"] = "silu",
        ["max_position_embeddings"] = 131072,
        ["rms_norm_eps"] = 1e-5,
        ["rope_theta"] = 500000.0,
        ["rope_scaling"] = new JsonObject
        {
            ["rope_type"] = "llama3",
            ["factor"] = 32.0,
            ["low_freq_factor"] = 1.0,
            ["high_freq_factor"] = 4.0,
            ["original_max_position_embeddings"] = 8192,
        },
        ["attention_bias"] = false,
        ["attention_dropout"] = 0.0,
        ["mlp_bias"] = false,
        ["pretraining_tp"] = 1,
        ["tie_word_embeddings"] = true,
        ["initializer_range"] = 0.02,
        ["bos_token_id"] = 128000,
        ["eos_token_id"] = new JsonArray(128001, 128008, 128009),
        ["use_cache"] = true,
        ["torch_dtype"] = "float32",
    };

    /// <summary>Llama-3.2-1B-Instruct's generation_config.json.</summary>
    public JsonObject BuiltInGenerationConfig() => new()
    {
        ["bos_token_id"] = 128000,
        ["do_sample"] = true,
        ["eos_token_id"] = new JsonArray(128001, 128008, 128009),
        ["temperature"] = 0.6,
        ["top_p"] = 0.9,
    };

    public string BuiltInTokenizer => "llama3";

    public string GgufArchitecture => "llama";

    public string GgufPreTokenizer(ModelConfig config) => config.VocabSize >= Llama3VocabSize ? "llama-bpe" : "default";

    public string? GgufTensorName(string hfName) => HfToGgufNames.Map(hfName);

    public bool GgufPermutesQueryKey => true;
}
