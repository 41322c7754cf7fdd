using System.Text.Json.Nodes;

namespace FineTuneAgent.Modeling.Config;

/// <summary>
/// The fields of an HF `config.json` that Qwen3 and Llama use, with HF's defaults filled in per
/// `model_type` and derived fields (head_dim, kv heads) computed in one place. The parsed JSON is
/// kept so a checkpoint saves back with every field it had.
/// </summary>
public sealed record ModelConfig
{
    public required string ModelType { get; init; }
    public int VocabSize { get; init; }
    public int HiddenSize { get; init; }
    public int IntermediateSize { get; init; }
    public int NumHiddenLayers { get; init; }
    public int NumAttentionHeads { get; init; }
    public int NumKeyValueHeads { get; init; }
    public int HeadDim { get; init; }
    public string HiddenAct { get; init; } = "silu";
    public int MaxPositionEmbeddings { get; init; }
    public double RmsNormEps { get; init; }
    public double RopeTheta { get; init; }
    public RopeScaling? RopeScaling { get; init; }
    public bool AttentionBias { get; init; }
    public bool MlpBias { get; init; }
    public double AttentionDropout { get; init; }
    public double InitializerRange { get; init; } = 0.02;
    public bool TieWordEmbeddings { get; init; }

    /// <summary>Qwen3's per-head RMSNorm on queries and keys before RoPE.</summary>
    public bool UseQkNorm { get; init; }
    public int? BosTokenId { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    public int? PadTokenId { get; init; }

    /// <summary>The dtype the weights are stored in ("bfloat16", "float16", "float32").</summary>
    public string TorchDtype { get; init; } = "float32";

    /// <summary>The JSON the config came from (or will be written as), including fields we do not use.</summary>
    public JsonObject Raw { get; init; } = new();

    /// <summary>Query heads per key/value head (GQA).</summary>
    public int NumKeyValueGroups => NumAttentionHeads / NumKeyValueHeads;

    /// <summary>Parameters of the model (tied embeddings counted once).</summary>
    public long ParameterCount()
    {
        long h = HiddenSize, hd = HeadDim;
        long attn = h * NumAttentionHeads * hd * 2 + h * NumKeyValueHeads * hd * 2;
        if (AttentionBias)
            attn += NumAttentionHeads * hd + 2 * NumKeyValueHeads * hd + h;
        if (UseQkNorm)
            attn += 2 * hd;
        long mlp = 3 * h * IntermediateSize + (MlpBias ? 2L * IntermediateSize + h : 0);
        long layer = attn + mlp + 2 * h;
        long embed = (long)VocabSize * h;
        return NumHiddenLayers * layer + embed + h + (TieWordEmbeddings ? 0 : embed);
    }
}
