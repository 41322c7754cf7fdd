using System.Diagnostics;
using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Templates;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Layers;
using FineTuneAgent.Templates.Qwen3;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Methods.Tests;

/// <summary>Tiny random models in Hugging Face layout, and helpers to run them.</summary>
internal static class Models
{
    public static readonly IModelTemplate Template = new Qwen3Template();

    public static JsonObject Qwen3Json(bool tied = true, int layers = 2) => new()
    {
        ["architectures"] = new JsonArray("Qwen3ForCausalLM"),
        ["model_type"] = "qwen3",
        ["vocab_size"] = 67,
        ["hidden_size"] = 32,
        ["intermediate_size"] = 48,
        ["num_hidden_layers"] = layers,
        ["num_attention_heads"] = 4,
        ["num_key_value_heads"] = 2,
        ["head_dim"] = 16,
        ["max_position_embeddings"] = 128,
        ["rms_norm_eps"] = 1e-6,
        ["rope_theta"] = 1000000.0,
        ["tie_word_embeddings"] = tied,
        ["torch_dtype"] = "float32",
        ["initializer_range"] = 0.2,
    };

    public static JsonObject LlamaJson(bool tied = false) => new()
    {
        ["architectures"] = new JsonArray("LlamaForCausalLM"),
        ["model_type"] = "llama",
        ["vocab_size"] = 71,
        ["hidden_size"] = 32,
        ["intermediate_size"] = 40,
        ["num_hidden_layers"] = 2,
        ["num_attention_heads"] = 4,
        ["num_key_value_heads"] = 1,
        ["max_position_embeddings"] = 128,
        ["rms_norm_eps"] = 1e-5,
        ["rope_theta"] = 500000.0,
        ["tie_word_embeddings"] = tied,
        ["torch_dtype"] = "float32",
        ["initializer_range"] = 0.2,
    };

    public static ModelConfig Config(JsonObject json) => ModelConfigReader.Parse(json, "config.json");

    public static CausalLM Build(JsonObject json, long seed = 7)
    {
        manual_seed(seed);
        return new CausalLM(Config(json));
    }

    public static Tensor Tokens(CausalLM model, long batch = 2, long length = 9, long seed = 11)
    {
        manual_seed(seed);
        return randint(0, model.Config.VocabSize, [batch, length]);
    }

    public static Tensor Logits(CausalLM model, Tensor ids)
    {
        using var _ = no_grad();
        return model.forward(ids);
    }

    /// <summary>A few AdamW steps of causal-LM loss on random tokens, so adapters move away from their no-op start.</summary>
    public static void Train(CausalLM model, IReadOnlyList<optim.ParamGroup> groups, int steps = 3, double lr = 0.05)
    {
        using var optimizer = optim.AdamW(groups, lr: lr);
        model.train();
        for (var i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            var ids = Tokens(model, seed: 100 + i);
            var logits = model.forward(ids);
            var loss = CausalLM.CausalLmLoss(logits, ids);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }
        model.eval();
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

    /// <summary>Runs a script of tests/compat with Debian's python3 (the one with torch).</summary>
    public static void Python(string script, params string[] args)
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
        if (!p.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{script} did not finish in 3 minutes");
        }
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{script} {string.Join(' ', args)} failed ({p.ExitCode}): {stderr.Result}{stdout.Result}");
    }
}
