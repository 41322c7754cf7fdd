using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Layers;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Checkpoints;

/// <summary>
/// Loads and saves models in Hugging Face layout: config.json, generation_config.json and
/// model.safetensors or sharded model-0000N-of-0000M.safetensors with an index.
/// </summary>
public static class Checkpoint
{
    public const string ConfigFileName = "config.json";
    public const string GenerationConfigFileName = "generation_config.json";

    /// <summary>The dtype a config's torch_dtype names.</summary>
    public static ScalarType DTypeOf(string torchDtype) => torchDtype switch
    {
        "float32" => ScalarType.Float32,
        "bfloat16" => ScalarType.BFloat16,
        "float16" => ScalarType.Float16,
        _ => throw new ModelConfigException($"torch_dtype \"{torchDtype}\" is not supported (float32, bfloat16, float16)"),
    };

    public static string NameOf(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float16 => "float16",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "checkpoints are stored as float32, bfloat16 or float16"),
    };

    /// <summary>
    /// Builds the model of a checkpoint folder and loads its weights, converted to computeDtype
    /// (default: the stored dtype). Every tensor the model needs must be present with its shape;
    /// errors name the file and tensor.
    /// </summary>
    public static CausalLM Load(string modelDir, ScalarType? computeDtype = null)
    {
        var config = ModelConfigReader.Load(Path.Combine(modelDir, ConfigFileName));
        CausalLM model;
        using (nn.init.no_init())
            model = new CausalLM(config, computeDtype ?? DTypeOf(config.TorchDtype), initialize: false);
        try
        {
            LoadWeights(model, modelDir);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Copies a checkpoint's tensors into an existing model (same names and shapes).</summary>
    public static void LoadWeights(nn.Module model, string modelDir)
    {
        using var reader = OpenWeights(modelDir);
        LoadTensors(reader, modelDir, model.state_dict());
    }

    /// <summary>The safetensors weights of a checkpoint folder (sharded or not); a missing file is a CheckpointException.</summary>
    public static ISafetensorsReader OpenWeights(string modelDir)
    {
        try
        {
            return Safetensors.Open(modelDir);
        }
        catch (FileNotFoundException e)
        {
            throw new CheckpointException(e.Message, e);
        }
    }

    /// <summary>
    /// Copies the named tensors of a checkpoint into <paramref name="targets"/>: every one must be
    /// present with the target's shape (errors name the folder and tensor); values go straight
    /// into the targets' storage.
    /// </summary>
    public static void LoadTensors(ISafetensorsReader reader, string modelDir, IReadOnlyDictionary<string, Tensor> targets)
    {
        using var _ = no_grad();
        var missing = targets.Keys.Where(k => !reader.Contains(k)).ToList();
        if (missing.Count > 0)
            throw new CheckpointException($"{modelDir}: checkpoint lacks {missing.Count} tensor(s) the model needs: {string.Join(", ", missing.Take(10))}{(missing.Count > 10 ? ", …" : "")}");
        foreach (var (name, target) in targets)
        {
            var info = reader.GetInfo(name);
            if (!info.Shape.SequenceEqual(target.shape))
                throw new CheckpointException($"{modelDir}: tensor '{name}' has shape [{string.Join(", ", info.Shape)}] in the checkpoint, but the model needs [{string.Join(", ", target.shape)}]");
            reader.LoadInto(name, target);
        }
    }

    /// <summary>
    /// Writes the model in HF layout: weights in dtype (default: the config's), sharded above
    /// maxShardSize with an index, config.json with torch_dtype updated and every other field as
    /// it came, and generation_config.json when given. Tied lm_head is not written, as HF does.
    /// Weights are converted to dtype chunk by chunk as they are written, so saving never needs a
    /// converted copy of the model; <paramref name="tensorWritten"/> hears of each tensor written
    /// (its name and stored bytes).
    /// </summary>
    public static void Save(CausalLM model, string outputDir, ScalarType? dtype = null, string maxShardSize = "5GB", JsonObject? generationConfig = null,
        Action<string, long>? tensorWritten = null)
    {
        Directory.CreateDirectory(outputDir);
        var storeAs = dtype ?? DTypeOf(model.Config.TorchDtype);
        var tensors = model.state_dict();
        Safetensors.SaveSharded(outputDir, tensors, Safetensors.ParseSize(maxShardSize), new SafetensorsSaveOptions
        {
            Metadata = new Dictionary<string, string> { ["format"] = "pt" },
            StoreAs = storeAs,
            TensorWritten = tensorWritten,
        });
        var config = (JsonObject)model.Config.Raw.DeepClone();
        config["torch_dtype"] = NameOf(storeAs);
        WriteJson(Path.Combine(outputDir, ConfigFileName), config);
        if (generationConfig is not null)
            WriteJson(Path.Combine(outputDir, GenerationConfigFileName), generationConfig);
    }

    private static void WriteJson(string path, JsonNode json)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        File.Move(temp, path, overwrite: true);
    }
}
