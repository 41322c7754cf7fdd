using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Layers;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Abstractions.Templates;

/// <summary>
/// A model family as a plugin (plugins/FineTuneAgent.Templates.*): recognises an HF config's
/// model_type, builds the causal LM, names its chat format, default LoRA targets, built-in
/// sizes, and the GGUF architecture and tensor names the exporter writes.
/// </summary>
public interface IModelTemplate
{
    /// <summary>The template's name as users type it: "qwen3", "llama".</summary>
    string Name { get; }

    /// <summary>HF config.json model_type values this template handles.</summary>
    IReadOnlyList<string> ModelTypes { get; }

    /// <summary>Builds the model of a config (random weights unless loaded afterwards).</summary>
    CausalLM BuildModel(ModelConfig config, ScalarType dtype, bool initialize);

    /// <summary>The chat format this model was trained with ("qwen3", "llama3", "llama2").</summary>
    string ChatFormatFor(ModelConfig config);

    /// <summary>Linear modules LoRA adapts by default (PEFT target_modules names).</summary>
    IReadOnlyList<string> DefaultLoraTargets { get; }

    /// <summary>Named built-in sizes for `fta model init` ("tiny", "small"), as config.json objects.</summary>
    IReadOnlyList<string> BuiltInSizes { get; }

    System.Text.Json.Nodes.JsonObject BuiltInConfig(string size);

    /// <summary>generation_config.json for the built-in sizes, as the family's instruct checkpoints ship it.</summary>
    System.Text.Json.Nodes.JsonObject BuiltInGenerationConfig();

    /// <summary>The tokenizer the built-in sizes use (a folder name under the fetched tokenizers: "qwen3", "llama3").</summary>
    string BuiltInTokenizer { get; }

    /// <summary>GGUF general.architecture ("llama", "qwen3").</summary>
    string GgufArchitecture { get; }

    /// <summary>GGUF tokenizer.ggml.pre for this family's byte-level BPE ("qwen2", "llama-bpe").</summary>
    string GgufPreTokenizer(ModelConfig config);

    /// <summary>The GGUF name of an HF tensor, or null when GGUF has no such tensor.</summary>
    string? GgufTensorName(string hfName);

    /// <summary>
    /// Whether q_proj/k_proj rows must be permuted from HF's half-split rotary layout to
    /// llama.cpp's interleaved one (llama: yes; qwen3: no, it uses NEOX rotary).
    /// </summary>
    bool GgufPermutesQueryKey { get; }
}
