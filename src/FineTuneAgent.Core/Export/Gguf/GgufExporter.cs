using FineTuneAgent.Abstractions.Templates;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Modeling.Checkpoints;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Export.Gguf;

/// <summary>
/// Exports a model folder in Hugging Face layout (config.json, safetensors, tokenizer.json,
/// tokenizer_config.json) to a GGUF v3 file llama.cpp and Ollama load, with an Ollama
/// Modelfile beside it, and a PEFT LoRA adapter to a GGUF LoRA adapter llama.cpp applies on top
/// of the base GGUF. Tensors are converted and written one at a time. An existing file is never
/// overwritten, and a failed export leaves nothing under the final name.
/// </summary>
public static partial class GgufExporter
{
    /// <summary>Exports a model folder; the template comes from the plugins by config.json's model_type.</summary>
    public static void ExportModel(string modelDir, string outPath, GgufQuant quant, IProgress<GgufExportProgress>? progress = null)
    {
        var config = ModelConfigReader.Load(Path.Combine(modelDir, Checkpoint.ConfigFileName));
        using var plugins = PluginHost.Load();
        ExportModel(plugins.TemplateFor(config.ModelType), modelDir, outPath, quant, progress);
    }

    /// <summary>Exports a model folder with a given template (architecture, tensor names, chat format).</summary>
    public static void ExportModel(IModelTemplate template, string modelDir, string outPath, GgufQuant quant, IProgress<GgufExportProgress>? progress = null)
    {
        var config = ModelConfigReader.Load(Path.Combine(modelDir, Checkpoint.ConfigFileName));
        var arch = CheckArchitecture(template, config, modelDir);
        var modelfilePath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outPath))!, OllamaModelfile.FileName);
        RefuseExisting(outPath);
        RefuseExisting(modelfilePath);
        var vocabulary = GgufVocabulary.FromModelFolder(modelDir, config, template.GgufPreTokenizer(config));

        var writer = new GgufWriter();
        writer.Add("general.architecture", GgufValue.String(arch));
        writer.Add("general.type", GgufValue.String("model"));
        writer.Add("general.name", GgufValue.String(Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelDir)))));
        writer.Add("general.file_type", GgufValue.UInt32(GgufArchitecture.FileType(quant)));
        if (quant is GgufQuant.Q8_0 or GgufQuant.Q4_0)
            writer.Add("general.quantization_version", GgufValue.UInt32(2));   // GGML_QNT_VERSION
        GgufArchitecture.AddHyperParameters(writer, arch, config);
        vocabulary.AddTo(writer);

        using var reader = Checkpoint.OpenWeights(modelDir);
        var plan = PlanModelTensors(template, config, reader, modelDir, GgufArchitecture.TensorType(quant));
        foreach (var p in plan)
            writer.AddTensor(p.GgufName, p.TorchShape.Reverse().ToArray(), p.Type);

        var index = 0;
        AtomicFile.Write(outPath, stream => writer.WriteTo(stream, info =>
        {
            var p = plan[index++];
            var bytes = p.Encode(reader);
            progress?.Report(new GgufExportProgress(index, plan.Count, p.GgufName, p.Type));
            return bytes;
        }));

        var modelfile = OllamaModelfile.Render(Path.GetFileName(outPath), template.ChatFormatFor(config), templateAddsBos: !vocabulary.AddBos);
        AtomicFile.Write(modelfilePath, s => s.Write(System.Text.Encoding.UTF8.GetBytes(modelfile)));
    }

    /// <summary>One tensor to write: its GGUF name, PyTorch-order shape, stored type and how to produce its values.</summary>
    private sealed record PlannedTensor(string GgufName, long[] TorchShape, GgmlType Type, Func<ISafetensorsReader, float[]> Values)
    {
        public byte[] Encode(ISafetensorsReader reader) => GgmlQuantizer.Encode(Values(reader), TorchShape[^1], Type);
    }

    private static List<PlannedTensor> PlanModelTensors(IModelTemplate template, ModelConfig config, ISafetensorsReader reader, string modelDir, GgmlType matrixType)
    {
        var plan = new List<PlannedTensor>();
        var arch = template.GgufArchitecture;
        if (config.RopeScaling is { RopeType: "llama3" } && arch == "llama")
        {
            var factors = GgufArchitecture.RopeFrequencyFactors(config);
            plan.Add(new PlannedTensor("rope_freqs.weight", [factors.Length], GgmlType.F32, _ => factors));
        }
        foreach (var name in reader.Names)
        {
            // A tied lm_head is the embedding; llama.cpp uses token_embd when output.weight is absent.
            if (name == "lm_head.weight" && config.TieWordEmbeddings)
                continue;
            var gguf = template.GgufTensorName(name)
                ?? throw new NotSupportedException($"{modelDir}: tensor '{name}' has no GGUF name for architecture {arch}");
            var shape = reader.GetInfo(name).Shape.ToArray();
            var heads = template.GgufPermutesQueryKey ? QueryKeyHeads(name, config) : null;
            var type = TypeFor(gguf, shape, matrixType);
            plan.Add(new PlannedTensor(gguf, shape, type, r => LoadFloats(r, name, heads)));
        }
        if (!config.TieWordEmbeddings && !reader.Contains("lm_head.weight"))
            throw new CheckpointException($"{modelDir}: config.json says tie_word_embeddings false, but the checkpoint has no lm_head.weight");
        return plan;
    }

    /// <summary>
    /// llama.cpp's converter rule: 1-D tensors, norms and non-weights stay F32; a matrix whose rows
    /// do not fill whole 32-element blocks falls back to F16.
    /// </summary>
    private static GgmlType TypeFor(string ggufName, long[] torchShape, GgmlType matrixType)
    {
        if (torchShape.Length == 1 || ggufName.EndsWith("_norm.weight", StringComparison.Ordinal) || !ggufName.EndsWith(".weight", StringComparison.Ordinal))
            return GgmlType.F32;
        if (torchShape[^1] % GgmlTypes.BlockSize(matrixType) != 0)
            return GgmlType.F16;
        return matrixType;
    }

    /// <summary>Heads to permute q_proj / k_proj rows by (llama only), or null for other tensors.</summary>
    private static int? QueryKeyHeads(string hfName, ModelConfig config) =>
        hfName.EndsWith(".self_attn.q_proj.weight", StringComparison.Ordinal) || hfName.EndsWith(".self_attn.q_proj.bias", StringComparison.Ordinal) ? config.NumAttentionHeads
        : hfName.EndsWith(".self_attn.k_proj.weight", StringComparison.Ordinal) || hfName.EndsWith(".self_attn.k_proj.bias", StringComparison.Ordinal) ? config.NumKeyValueHeads
        : null;

    /// <summary>A tensor as float32 values in row-major order, permuted when asked.</summary>
    private static float[] LoadFloats(ISafetensorsReader reader, string name, int? permuteHeads)
    {
        using var scope = NewDisposeScope();
        var t = reader.Load(name).to_type(ScalarType.Float32);
        if (permuteHeads is { } heads)
            t = LlamaRotaryPermutation.Permute(t, heads);
        return t.contiguous().data<float>();
    }

    private static string CheckArchitecture(IModelTemplate template, ModelConfig config, string modelDir)
    {
        var arch = template.GgufArchitecture;
        if (arch is not ("llama" or "qwen3"))
            throw new NotSupportedException($"{modelDir}: GGUF export supports the llama and qwen3 architectures, not {arch}");
        // llama.cpp's qwen3 graph has no attention biases; a checkpoint with them would not load.
        if (arch == "qwen3" && config.AttentionBias)
            throw new NotSupportedException($"{modelDir}: config.json has attention_bias true, which llama.cpp's qwen3 architecture does not support");
        if (config.MlpBias)
            throw new NotSupportedException($"{modelDir}: config.json has mlp_bias true; GGUF export does not map MLP biases");
        return arch;
    }

    private static void RefuseExisting(string path)
    {
        if (File.Exists(path) || Directory.Exists(path))
            throw new IOException($"{path} already exists; choose a new name (an export never overwrites a file)");
    }
}
