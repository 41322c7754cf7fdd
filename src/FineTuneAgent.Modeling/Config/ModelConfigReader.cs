using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTuneAgent.Modeling.Config;

/// <summary>Reads and validates an HF config.json; every error names the file and the field.</summary>
public static class ModelConfigReader
{
    public static ModelConfig Load(string path)
    {
        if (!File.Exists(path))
            throw new ModelConfigException($"{path}: file not found");
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new ModelConfigException($"{path}: not valid JSON (line {e.LineNumber + 1}): {e.Message}");
        }
        if (node is not JsonObject obj)
            throw new ModelConfigException($"{path}: expected a JSON object");
        return Parse(obj, path);
    }

    public static ModelConfig Parse(JsonObject json, string source)
    {
        var r = new FieldReader(json, source);
        var modelType = r.String("model_type")
            ?? throw new ModelConfigException($"{source}: missing \"model_type\" (expected one of: {Supported()})");
        var d = ArchitectureDefaults.For(modelType)
            ?? throw new ModelConfigException($"{source}: unknown model_type \"{modelType}\" (supported: {Supported()})");

        var hidden = r.Int("hidden_size") ?? d.HiddenSize;
        var heads = r.Int("num_attention_heads") ?? d.NumAttentionHeads;
        var kvHeads = r.Int("num_key_value_heads") ?? heads;
        r.Positive("hidden_size", hidden);
        r.Positive("num_attention_heads", heads);
        r.Positive("num_key_value_heads", kvHeads);
        var headDim = r.Int("head_dim") ?? d.HeadDim ?? hidden / heads;
        if (r.Int("head_dim") is null && d.HeadDim is null && hidden % heads != 0)
            throw new ModelConfigException($"{source}: hidden_size {hidden} is not divisible by num_attention_heads {heads} and no head_dim is given");
        if (heads % kvHeads != 0)
            throw new ModelConfigException($"{source}: num_attention_heads {heads} is not a multiple of num_key_value_heads {kvHeads}");
        var act = r.String("hidden_act") ?? "silu";
        if (act != "silu")
            throw new ModelConfigException($"{source}: hidden_act \"{act}\" is not supported (only \"silu\")");

        var config = new ModelConfig
        {
            ModelType = modelType,
            VocabSize = r.Int("vocab_size") ?? d.VocabSize,
            HiddenSize = hidden,
            IntermediateSize = r.Int("intermediate_size") ?? d.IntermediateSize,
            NumHiddenLayers = r.Int("num_hidden_layers") ?? d.NumHiddenLayers,
            NumAttentionHeads = heads,
            NumKeyValueHeads = kvHeads,
            HeadDim = headDim,
            HiddenAct = act,
            MaxPositionEmbeddings = r.Int("max_position_embeddings") ?? d.MaxPositionEmbeddings,
            RmsNormEps = r.Double("rms_norm_eps") ?? d.RmsNormEps,
            RopeTheta = r.Double("rope_theta") ?? RopeThetaFromParameters(r) ?? d.RopeTheta,
            RopeScaling = ReadRopeScaling(r),
            AttentionBias = r.Bool("attention_bias") ?? false,
            MlpBias = r.Bool("mlp_bias") ?? false,
            AttentionDropout = r.Double("attention_dropout") ?? 0.0,
            InitializerRange = r.Double("initializer_range") ?? 0.02,
            TieWordEmbeddings = r.Bool("tie_word_embeddings") ?? d.TieWordEmbeddings,
            UseQkNorm = d.UseQkNorm,
            BosTokenId = r.Int("bos_token_id") ?? d.BosTokenId,
            EosTokenIds = r.IntOrList("eos_token_id") ?? (d.EosTokenId is { } e ? [e] : []),
            PadTokenId = r.Int("pad_token_id"),
            TorchDtype = r.String("torch_dtype") ?? r.String("dtype") ?? "float32",
            Raw = json,
        };
        r.Positive("vocab_size", config.VocabSize);
        r.Positive("intermediate_size", config.IntermediateSize);
        r.Positive("num_hidden_layers", config.NumHiddenLayers);
        r.Positive("head_dim", config.HeadDim);
        if (config.HeadDim % 2 != 0)
            throw new ModelConfigException($"{source}: head_dim {config.HeadDim} must be even for rotary embeddings");
        if (config.TorchDtype is not ("float32" or "bfloat16" or "float16"))
            throw new ModelConfigException($"{source}: torch_dtype \"{config.TorchDtype}\" is not supported (float32, bfloat16, float16)");
        return config;
    }

    private static string Supported() => string.Join(", ", ArchitectureDefaults.All.Select(a => a.ModelType));

    // transformers v5 moves rope_theta into rope_parameters.
    private static double? RopeThetaFromParameters(FieldReader r) =>
        r.Object("rope_parameters") is { } p ? new FieldReader(p, r.Source).Double("rope_theta") : null;

    private static RopeScaling? ReadRopeScaling(FieldReader r)
    {
        var field = r.Object("rope_scaling") is not null ? "rope_scaling" : "rope_parameters";
        var obj = r.Object(field);
        if (obj is null)
            return null;
        var sub = new FieldReader(obj, $"{r.Source}: {field}");
        var type = sub.String("rope_type") ?? sub.String("type") ?? "default";
        switch (type)
        {
            case "default":
                return null;
            case "linear":
                return new RopeScaling("linear", sub.Double("factor") ?? throw sub.Missing("factor"));
            case "llama3":
                return new RopeScaling(
                    "llama3",
                    sub.Double("factor") ?? throw sub.Missing("factor"),
                    sub.Double("low_freq_factor") ?? throw sub.Missing("low_freq_factor"),
                    sub.Double("high_freq_factor") ?? throw sub.Missing("high_freq_factor"),
                    sub.Int("original_max_position_embeddings") ?? throw sub.Missing("original_max_position_embeddings"));
            default:
                throw new ModelConfigException($"{r.Source}: {field}.rope_type \"{type}\" is not supported (default, linear, llama3)");
        }
    }
}
