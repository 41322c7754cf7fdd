namespace FineTuneAgent.Modeling.Config;

/// <summary>
/// HF transformers' constructor defaults for the architectures we support (FACTS §2.1, §3.1):
/// what a config.json means when it leaves a field out.
/// </summary>
public sealed record ArchitectureDefaults(
    string ModelType,
    int VocabSize,
    int HiddenSize,
    int IntermediateSize,
    int NumHiddenLayers,
    int NumAttentionHeads,
    int? HeadDim,
    int MaxPositionEmbeddings,
    double RmsNormEps,
    double RopeTheta,
    bool TieWordEmbeddings,
    bool UseQkNorm,
    int? BosTokenId,
    int? EosTokenId)
{
    /// <summary>Qwen3Config (transformers qwen3/configuration_qwen3.py).</summary>
    public static readonly ArchitectureDefaults Qwen3 = new("qwen3", 151936, 4096, 22016, 32, 32, 128, 32768, 1e-6, 10000.0, false, true, null, null);

    /// <summary>LlamaConfig (transformers llama/configuration_llama.py); head_dim defaults to hidden/heads.</summary>
    public static readonly ArchitectureDefaults Llama = new("llama", 32000, 4096, 11008, 32, 32, null, 2048, 1e-6, 10000.0, false, false, 1, 2);

    public static IReadOnlyList<ArchitectureDefaults> All { get; } = [Qwen3, Llama];

    public static ArchitectureDefaults? For(string modelType) => All.FirstOrDefault(a => a.ModelType == modelType);
}
