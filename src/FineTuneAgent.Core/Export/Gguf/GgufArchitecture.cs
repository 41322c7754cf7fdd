using FineTuneAgent.Modeling.Config;

namespace FineTuneAgent.Core.Export.Gguf;

/// <summary>
/// The {arch}.* hyper-parameter keys llama.cpp reads for llama and qwen3, as its converter writes
/// them (integers as uint32, floats as float32; convert_hf_to_gguf.py set_gguf_parameters).
/// </summary>
public static class GgufArchitecture
{
    public static void AddHyperParameters(GgufWriter w, string arch, ModelConfig c)
    {
        w.Add($"{arch}.context_length", GgufValue.UInt32((uint)c.MaxPositionEmbeddings));
        w.Add($"{arch}.embedding_length", GgufValue.UInt32((uint)c.HiddenSize));
        w.Add($"{arch}.block_count", GgufValue.UInt32((uint)c.NumHiddenLayers));
        w.Add($"{arch}.feed_forward_length", GgufValue.UInt32((uint)c.IntermediateSize));
        w.Add($"{arch}.attention.head_count", GgufValue.UInt32((uint)c.NumAttentionHeads));
        w.Add($"{arch}.attention.head_count_kv", GgufValue.UInt32((uint)c.NumKeyValueHeads));
        w.Add($"{arch}.attention.key_length", GgufValue.UInt32((uint)c.HeadDim));
        w.Add($"{arch}.attention.value_length", GgufValue.UInt32((uint)c.HeadDim));
        w.Add($"{arch}.attention.layer_norm_rms_epsilon", GgufValue.Float32((float)c.RmsNormEps));
        w.Add($"{arch}.rope.freq_base", GgufValue.Float32((float)c.RopeTheta));
        w.Add($"{arch}.rope.dimension_count", GgufValue.UInt32((uint)c.HeadDim));
        w.Add($"{arch}.vocab_size", GgufValue.UInt32((uint)c.VocabSize));
        switch (c.RopeScaling)
        {
            case null:
                break;
            case { RopeType: "linear" } s:
                w.Add($"{arch}.rope.scaling.type", GgufValue.String("linear"));
                w.Add($"{arch}.rope.scaling.factor", GgufValue.Float32((float)s.Factor));
                break;
            case { RopeType: "llama3" } when arch == "llama":
                break;   // carried by the rope_freqs.weight tensor (RopeFrequencyFactors)
            default:
                throw new NotSupportedException($"rope_scaling \"{c.RopeScaling.RopeType}\" cannot be exported to GGUF architecture {arch}");
        }
    }

    /// <summary>general.file_type (llama.cpp LlamaFileType) of an export.</summary>
    public static uint FileType(GgufQuant quant) => quant switch
    {
        GgufQuant.F32 => 0,      // ALL_F32
        GgufQuant.F16 => 1,      // MOSTLY_F16
        GgufQuant.Q4_0 => 2,     // MOSTLY_Q4_0
        GgufQuant.Q8_0 => 7,     // MOSTLY_Q8_0
        _ => throw new ArgumentOutOfRangeException(nameof(quant)),
    };

    public static GgmlType TensorType(GgufQuant quant) => quant switch
    {
        GgufQuant.F32 => GgmlType.F32,
        GgufQuant.F16 => GgmlType.F16,
        GgufQuant.Q8_0 => GgmlType.Q8_0,
        GgufQuant.Q4_0 => GgmlType.Q4_0,
        _ => throw new ArgumentOutOfRangeException(nameof(quant)),
    };

    /// <summary>
    /// Llama 3.1+ rope scaling as llama.cpp takes it: rope_freqs.weight holds, per rotated pair,
    /// the divisor of the unscaled frequency (1 for high frequencies, factor for low ones, a
    /// blend between), so that llama.cpp's frequencies equal ours.
    /// </summary>
    public static float[] RopeFrequencyFactors(ModelConfig c)
    {
        var scaled = Modeling.Layers.RotaryEmbedding.InverseFrequencies(c);
        var plain = Modeling.Layers.RotaryEmbedding.InverseFrequencies(c with { RopeScaling = null });
        return plain.Select((f, i) => (float)(f / scaled[i])).ToArray();
    }
}
