using System.Diagnostics;
using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Modeling.Checkpoints;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Layers;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Tests.Export;

/// <summary>
/// Tiny Qwen3 (tied embeddings) and Llama (untied) base folders in HF layout, and saves of every
/// method over them whose trained tensors are all moved away from their no-op start (LoRA B and
/// DoRA magnitudes set at random, Freeze/Full weights perturbed), as the plugins save them.
/// </summary>
internal sealed class ExportFixture : IDisposable
{
    public static readonly Lazy<PluginHost> Host = new(() => PluginHost.Load(Path.Combine(AppContext.BaseDirectory, "plugins")));

    public static readonly IReadOnlyDictionary<string, string> Settings = new Dictionary<string, string>
    {
        ["lora"] = "{\"r\": 4, \"lora_alpha\": 8}",
        ["dora"] = "{\"r\": 4, \"lora_alpha\": 8}",
        ["qlora"] = "{\"r\": 4, \"lora_alpha\": 8, \"quant_type\": \"nf4\", \"blocksize\": 64}",
        ["freeze"] = "{\"freeze_trainable_layers\": 1, \"freeze_extra_modules\": [\"norm\"]}",
        ["full"] = "{}",
    };

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "fta-export-" + Guid.NewGuid().ToString("N"));

    public ExportFixture()
    {
        Directory.CreateDirectory(Root);
    }

    public static JsonObject ConfigJson(string family) => family switch
    {
        "qwen3" => new JsonObject
        {
            ["architectures"] = new JsonArray("Qwen3ForCausalLM"),
            ["model_type"] = "qwen3",
            ["vocab_size"] = 67,
            ["hidden_size"] = 32,
            ["intermediate_size"] = 64,
            ["num_hidden_layers"] = 2,
            ["num_attention_heads"] = 4,
            ["num_key_value_heads"] = 2,
            ["head_dim"] = 16,
            ["max_position_embeddings"] = 128,
            ["rms_norm_eps"] = 1e-6,
            ["rope_theta"] = 1000000.0,
            ["tie_word_embeddings"] = true,
            ["torch_dtype"] = "float32",
            ["initializer_range"] = 0.2,
        },
        _ => new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["model_type"] = "llama",
            ["vocab_size"] = 71,
            ["hidden_size"] = 32,
            ["intermediate_size"] = 64,
            ["num_hidden_layers"] = 2,
            ["num_attention_heads"] = 4,
            ["num_key_value_heads"] = 1,
            ["max_position_embeddings"] = 128,
            ["rms_norm_eps"] = 1e-5,
            ["rope_theta"] = 500000.0,
            ["tie_word_embeddings"] = false,
            ["torch_dtype"] = "float32",
            ["initializer_range"] = 0.2,
        },
    };

    /// <summary>A base model folder: config, weights from the seed, generation config and two tokenizer-side files.</summary>
    public string BaseModel(string family, long seed = 7, JsonObject? config = null, string? name = null)
    {
        var dir = Path.Combine(Root, name ?? $"base-{family}-{seed}");
        if (Directory.Exists(dir))
            return dir;
        var template = Host.Value.TemplateNamed(family);
        manual_seed(seed);
        using var model = template.BuildModel(ModelConfigReader.Parse(config ?? ConfigJson(family), "test config.json"), ScalarType.Float32, initialize: true);
        Checkpoint.Save(model, dir, generationConfig: new JsonObject { ["bos_token_id"] = 1, ["eos_token_id"] = 2, ["do_sample"] = false });
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), "{\"model_max_length\": 128, \"chat_template\": \"{{ messages }}\"}\n");
        File.WriteAllText(Path.Combine(dir, "chat_template.jinja"), "{% for m in messages %}{{ m.content }}{% endfor %}\n");
        return dir;
    }

    /// <summary>What <paramref name="method"/> saves after "training" over <paramref name="baseDir"/>: every trained tensor non-trivial.</summary>
    public string Adapter(string baseDir, string family, string method, long seed = 3)
    {
        var dir = Path.Combine(Root, $"adapter-{family}-{method}-{seed}-{Path.GetFileName(baseDir)}");
        if (Directory.Exists(dir))
            return dir;
        var host = Host.Value;
        var template = host.TemplateNamed(family);
        var plugin = host.Method(method);
        using var model = Checkpoint.Load(baseDir, ScalarType.Float32);
        var adapted = plugin.Adapt(model, template, plugin.ParseSettings(JsonNode.Parse(Settings[method])!.AsObject()));
        manual_seed(seed);
        using (no_grad())
        {
            foreach (var (name, p) in adapted.TrainableParameters)
            {
                if (name.Contains("lora_A", StringComparison.Ordinal))
                    continue;
                using var noise = randn(p.shape, p.dtype).mul_(name.Contains("lora_B", StringComparison.Ordinal) ? 0.3 : 0.05);
                if (name.Contains("lora_magnitude_vector", StringComparison.Ordinal))
                    p.mul_(noise.add(1));
                else
                    p.add_(noise);
            }
        }
        adapted.Save(dir, new AdapterSaveOptions(baseDir));
        return dir;
    }

    /// <summary>Logits of the base with a save applied (not merged) by <paramref name="method"/>'s own forward.</summary>
    public static Tensor AdaptedLogits(string baseDir, string family, string method, string adapterDir, Tensor ids)
    {
        var host = Host.Value;
        using var model = Checkpoint.Load(baseDir, ScalarType.Float32);
        host.Method(method).Load(model, host.TemplateNamed(family), adapterDir);
        model.eval();
        using var _ = no_grad();
        return model.forward(ids);
    }

    public static Tensor Logits(string modelDir, Tensor ids, ScalarType dtype = ScalarType.Float32)
    {
        using var model = Checkpoint.Load(modelDir, dtype);
        model.eval();
        using var _ = no_grad();
        using var logits = model.forward(ids);
        return logits.to_type(ScalarType.Float32);
    }

    public static Tensor Ids(long vocab, long seed = 11)
    {
        manual_seed(seed);
        return randint(0, vocab, [2, 9]);
    }

    public static float MaxAbsDiff(Tensor a, Tensor b)
    {
        using var d = a.sub(b);
        using var abs = d.abs();
        using var max = abs.max();
        return max.ToSingle();
    }

    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "FineTuneAgent.sln")))
                return dir.FullName;
        throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Runs a script of tests/compat with Debian's python3 (the one with torch); returns stdout.</summary>
    public static string Python(string script, params string[] args)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3", [Path.Combine(RepoRoot(), "tests", "compat", script), .. args])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        psi.Environment["OMP_NUM_THREADS"] = "1";
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{script} {string.Join(' ', args)} failed ({p.ExitCode}): {stderr.Result}{stdout.Result}");
        return stdout.Result;
    }

    /// <summary>A float32 little-endian file as a tensor of <paramref name="shape"/>.</summary>
    public static Tensor ReadFloats(string path, long[] shape)
    {
        var bytes = File.ReadAllBytes(path);
        var floats = new float[shape.Aggregate(1L, (a, b) => a * b)];
        Buffer.BlockCopy(bytes, 0, floats, 0, floats.Length * 4);
        return tensor(floats).reshape(shape);
    }

    public void Dispose()
    {
        if (Directory.Exists(Root))
            Directory.Delete(Root, recursive: true);
    }
}
