using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Methods.Dora;
using FineTuneAgent.Methods.Lora;
using FineTuneAgent.Modeling.Checkpoints;
using FineTuneAgent.Modeling.Layers;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Methods.Tests;

public sealed class PeftAdapterTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"fta-peft-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    private string Sub(string name) => Path.Combine(_dir, name);

    private static IFineTuneMethod Method(string name) => name == "dora" ? new DoraMethod() : new LoraMethod();

    /// <summary>A model with a trained adapter (non-zero B), its base saved under base/.</summary>
    private (CausalLM Model, AdaptedModel Adapted) Trained(JsonObject json, string method, JsonObject settings)
    {
        var model = Models.Build(json);
        Checkpoint.Save(model, Sub("base"));
        var m = Method(method);
        var adapted = m.Adapt(model, Models.Template, m.ParseSettings(settings));
        Models.Train(model, adapted.ParameterGroups(0.05, 0.0));
        return (model, adapted);
    }

    [Theory]
    [InlineData("lora", true)]
    [InlineData("dora", false)]
    public void SavedAdapter_ReadBack_GivesIdenticalOutputs(string method, bool qwen3)
    {
        var (model, adapted) = Trained(qwen3 ? Models.Qwen3Json() : Models.LlamaJson(), method, new JsonObject { ["r"] = 4, ["target_modules"] = new JsonArray("q_proj", "v_proj", "down_proj") });
        using var _ = model;
        using var ids = Models.Tokens(model);
        using var expected = Models.Logits(model, ids);
        adapted.Save(Sub("adapter"), new AdapterSaveOptions("tiny-base"));

        using var fresh = Checkpoint.Load(Sub("base"));
        var loaded = Method(method).Load(fresh, Models.Template, Sub("adapter"));
        using var actual = Models.Logits(fresh, ids);
        Assert.True(actual.equal(expected), $"max diff {Models.MaxAbsDiff(actual, expected)}");
        Assert.Equal(adapted.TrainableParameters.Select(p => p.Name), loaded.TrainableParameters.Select(p => p.Name));
    }

    [Fact]
    public void KeyNamesAndConfig_AreThoseOfPeft_ForQwen3AndLlamaTargets()
    {
        foreach (var qwen3 in new[] { true, false })
        {
            var folder = Sub(qwen3 ? "qwen3" : "llama");
            using var model = Models.Build(qwen3 ? Models.Qwen3Json() : Models.LlamaJson());
            var m = new DoraMethod();
            m.Adapt(model, Models.Template, m.ParseSettings(new JsonObject { ["r"] = 4, ["lora_alpha"] = 16, ["target_modules"] = new JsonArray("q_proj", "v_proj") }))
                .Save(folder, new AdapterSaveOptions("Qwen/Qwen3-0.6B"));
            using var reader = Safetensors.Open(Path.Combine(folder, "adapter_model.safetensors"));
            string[] expected =
            [
                "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
                "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
                "base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector",
                "base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight",
                "base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight",
                "base_model.model.model.layers.0.self_attn.v_proj.lora_magnitude_vector",
                "base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight",
                "base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight",
                "base_model.model.model.layers.1.self_attn.q_proj.lora_magnitude_vector",
                "base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight",
                "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight",
                "base_model.model.model.layers.1.self_attn.v_proj.lora_magnitude_vector",
            ];
            Assert.Equal(expected, reader.Names.Order(StringComparer.Ordinal));
            Assert.Equal([4L, 32L], reader.GetInfo(expected[0]).Shape);
            // q_proj out: Qwen3 4 heads × head_dim 16, Llama 4 heads × 32/4; v_proj: 2 × 16 or 1 × 8 kv heads.
            Assert.Equal([qwen3 ? 64L : 32L, 4L], reader.GetInfo(expected[1]).Shape);
            Assert.Equal([qwen3 ? 64L : 32L], reader.GetInfo(expected[2]).Shape);
            Assert.Equal([qwen3 ? 32L : 8L, 4L], reader.GetInfo(expected[4]).Shape);
            Assert.Equal(SafetensorsDType.F32, reader.GetInfo(expected[0]).DType);

            var text = File.ReadAllText(Path.Combine(folder, "adapter_config.json"));
            var config = JsonNode.Parse(text)!.AsObject();
            Assert.Equal(config.Select(kv => kv.Key).Order(StringComparer.Ordinal), config.Select(kv => kv.Key)); // sort_keys=True
            Assert.Equal("LORA", (string?)config["peft_type"]);
            Assert.Equal("CAUSAL_LM", (string?)config["task_type"]);
            Assert.Equal("Qwen/Qwen3-0.6B", (string?)config["base_model_name_or_path"]);
            Assert.Equal(4, (int)config["r"]!);
            Assert.Equal(16, (int)config["lora_alpha"]!);
            Assert.True((bool)config["use_dora"]!);
            Assert.False((bool)config["use_rslora"]!);
            Assert.Equal("none", (string?)config["bias"]);
            Assert.False((bool)config["fan_in_fan_out"]!);
            Assert.True((bool)config["inference_mode"]!);
            Assert.Equal(["q_proj", "v_proj"], config["target_modules"]!.AsArray().Select(n => (string)n!));
            Assert.Equal(JsonValueKind.Object, config["rank_pattern"]!.GetValueKind());
        }
    }

    [Fact]
    public void AllLinear_IsSavedAsTheConcreteModuleNames_AsPeftExpandsIt()
    {
        using var model = Models.Build(Models.Qwen3Json());
        var m = new LoraMethod();
        m.Adapt(model, Models.Template, m.ParseSettings(null)).Save(_dir, new AdapterSaveOptions("base"));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "adapter_config.json")))!;
        Assert.Equal(["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"], config["target_modules"]!.AsArray().Select(n => (string)n!));
    }

    /// <summary>Ours → PEFT: tests/compat/peft_reference.py loads our adapter as PeftModel would and computes the logits.</summary>
    [Theory]
    [InlineData("lora", true, false)]
    [InlineData("dora", false, false)]
    [InlineData("lora", false, true)]
    public void OurAdapter_LoadedAsPeftWould_GivesOurOutputs(string method, bool qwen3, bool rsLoraWithPatterns)
    {
        var settings = new JsonObject { ["r"] = 4, ["lora_alpha"] = 8 };
        if (rsLoraWithPatterns)
        {
            settings["use_rslora"] = true;
            settings["rank_pattern"] = new JsonObject { ["o_proj"] = 2 };
            settings["alpha_pattern"] = new JsonObject { ["model.layers.0.mlp.up_proj"] = 5 };
        }
        var (model, adapted) = Trained(qwen3 ? Models.Qwen3Json() : Models.LlamaJson(), method, settings);
        using var _ = model;
        adapted.Save(Sub("adapter"), new AdapterSaveOptions(Sub("base")));
        using var ids = Models.Tokens(model);
        using var ours = Models.Logits(model, ids);
        var theirs = PythonApply(ids);
        Assert.True(Models.MaxAbsDiff(ours, theirs) <= 1e-4f, $"max diff {Models.MaxAbsDiff(ours, theirs)}");
        theirs.Dispose();
    }

    /// <summary>PEFT → ours: an adapter laid out by peft_reference.py (as save_pretrained writes one) loads here and matches its logits.</summary>
    [Theory]
    [InlineData("lora", "lora")]
    [InlineData("dora", "dora")]
    [InlineData("lora", "rslora-pattern")]
    public void PeftWrittenAdapter_LoadsHere_WithPeftsOutputs(string method, string kind)
    {
        using var model = Models.Build(Models.LlamaJson());
        Checkpoint.Save(model, Sub("base"));
        Models.Python("peft_reference.py", "write", Sub("base"), Sub("adapter"), "5", kind);
        var loaded = Method(method).Load(model, Models.Template, Sub("adapter"));
        model.eval(); // the adapter's lora_dropout is 0.05: dropout must be off to compare
        using var ids = Models.Tokens(model);
        using var ours = Models.Logits(model, ids);
        using var theirs = PythonApply(ids);
        Assert.True(Models.MaxAbsDiff(ours, theirs) <= 1e-4f, $"max diff {Models.MaxAbsDiff(ours, theirs)}");
        // The adapter is not a no-op, so the comparison means something.
        using var baseModel = Checkpoint.Load(Sub("base"));
        using var plain = Models.Logits(baseModel, ids);
        Assert.True(Models.MaxAbsDiff(plain, ours) > 1e-2f);
        Assert.NotEmpty(loaded.TrainableParameters);
    }

    /// <summary>PiSSA changes the base; the saved adapter is converted to plain LoRA (rank 2r) that applies to the original base.</summary>
    [Fact]
    public void PissaAdapter_IsSavedAsLoraOverTheOriginalBase()
    {
        var (model, adapted) = Trained(Models.LlamaJson(), "lora", new JsonObject { ["r"] = 3, ["lora_alpha"] = 6, ["init_lora_weights"] = "pissa", ["target_modules"] = new JsonArray("q_proj", "up_proj") });
        using var _ = model;
        adapted.Save(Sub("adapter"), new AdapterSaveOptions(Sub("base")));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(Sub("adapter"), "adapter_config.json")))!;
        Assert.Equal(6, (int)config["r"]!);
        Assert.Equal(12, (int)config["lora_alpha"]!);
        Assert.True((bool)config["init_lora_weights"]!);
        using var ids = Models.Tokens(model);
        using var ours = Models.Logits(model, ids);
        using var theirs = PythonApply(ids); // on base/, the original weights
        Assert.True(Models.MaxAbsDiff(ours, theirs) <= 1e-4f, $"max diff {Models.MaxAbsDiff(ours, theirs)}");
    }

    /// <summary>
    /// An adapter whose config says init_lora_weights "pissa" (saved by PEFT without conversion)
    /// was trained over the PiSSA residual: loading redoes the split from the original base, as
    /// PeftModel.from_pretrained does, so the outputs equal those of the run that saved it.
    /// </summary>
    [Fact]
    public void UnconvertedPissaAdapter_LoadsOverTheResidual_AsPeftDoes()
    {
        var (model, adapted) = Trained(Models.LlamaJson(), "lora", new JsonObject { ["r"] = 2, ["lora_alpha"] = 4, ["init_lora_weights"] = "pissa", ["target_modules"] = new JsonArray("q_proj") });
        using var _ = model;
        var lora = (LoraAdaptedModel)adapted;
        var dir = Sub("unconverted");
        Directory.CreateDirectory(dir);
        // Laid out as PEFT's save_pretrained writes a PiSSA adapter without conversion: trained A, B at rank r.
        Safetensors.Save(Path.Combine(dir, "adapter_model.safetensors"), lora.Layers.ToDictionary(
            kv => $"base_model.model.{kv.Key}.lora_A.weight", kv => (Tensor)kv.Value.lora_A.weight)
            .Concat(lora.Layers.ToDictionary(kv => $"base_model.model.{kv.Key}.lora_B.weight", kv => (Tensor)kv.Value.lora_B.weight))
            .ToDictionary(kv => kv.Key, kv => kv.Value));
        File.WriteAllText(Path.Combine(dir, "adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": 2, \"lora_alpha\": 4, \"target_modules\": [\"q_proj\"], \"init_lora_weights\": \"pissa\", \"bias\": \"none\"}");
        using var ids = Models.Tokens(model);
        using var expected = Models.Logits(model, ids);
        using var fresh = Checkpoint.Load(Sub("base"));
        new LoraMethod().Load(fresh, Models.Template, dir);
        fresh.eval();
        using var actual = Models.Logits(fresh, ids);
        Assert.True(Models.MaxAbsDiff(expected, actual) <= 1e-5f, $"{Models.MaxAbsDiff(expected, actual)}");
    }

    private Tensor PythonApply(Tensor ids)
    {
        var input = Sub("input.json");
        var output = Sub("logits.bin");
        var flat = ids.ToArray<long>();
        var rows = flat.Chunk((int)ids.shape[1]).ToArray();
        File.WriteAllText(input, JsonSerializer.Serialize(new { input_ids = rows }));
        Models.Python("peft_reference.py", "apply", Sub("base"), Sub("adapter"), input, output);
        var bytes = File.ReadAllBytes(output);
        return frombuffer(bytes, ScalarType.Float32, [ids.shape[0], ids.shape[1], bytes.Length / 4 / ids.shape[0] / ids.shape[1]]);
    }

    [Fact]
    public void BadAdapters_AreRejected_NamingTheFileAndTheProblem()
    {
        var (model, adapted) = Trained(Models.Qwen3Json(), "lora", new JsonObject { ["r"] = 2, ["target_modules"] = new JsonArray("q_proj") });
        using var _ = model;
        var good = Sub("good");
        adapted.Save(good, new AdapterSaveOptions("base"));

        string Variant(string name, Action<string> change)
        {
            var dir = Sub(name);
            Directory.CreateDirectory(dir);
            foreach (var f in Directory.GetFiles(good))
                File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            change(dir);
            return dir;
        }

        void Expect<T>(string dir, params string[] fragments) where T : Exception
        {
            using var fresh = Checkpoint.Load(Sub("base"));
            var e = Assert.ThrowsAny<T>(() => new LoraMethod().Load(fresh, Models.Template, dir));
            foreach (var f in fragments)
                Assert.Contains(f, e.Message);
            // A rejected adapter leaves the model as it was: the good one still loads into it.
            new LoraMethod().Load(fresh, Models.Template, good);
        }

        var cfg = (string dir) => Path.Combine(dir, "adapter_config.json");
        var weights = (string dir) => Path.Combine(dir, "adapter_model.safetensors");
        Expect<FileNotFoundException>(Variant("noconfig", d => File.Delete(cfg(d))), "adapter_config.json");
        Expect<InvalidDataException>(Variant("badjson", d => File.WriteAllText(cfg(d), "{\"r\": 2,")), "adapter_config.json", "invalid JSON");
        Expect<InvalidDataException>(Variant("ia3", d => File.WriteAllText(cfg(d), File.ReadAllText(cfg(d)).Replace("\"LORA\"", "\"IA3\""))), "peft_type", "IA3");
        Expect<InvalidDataException>(Variant("typo", d => File.WriteAllText(cfg(d), File.ReadAllText(cfg(d)).Replace("\"r\": 2", "\"r\": \"two\""))), "field 'r'");
        Expect<FileNotFoundException>(Variant("noweights", d => File.Delete(weights(d))), "adapter_model.safetensors");
        Expect<Exception>(Variant("truncated", d => File.WriteAllBytes(weights(d), File.ReadAllBytes(weights(d))[..^7])), "adapter_model.safetensors");
        Expect<InvalidDataException>(Variant("shape", d => Safetensors.Save(weights(d), new Dictionary<string, Tensor>
        {
            ["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"] = zeros([2, 31]),
            ["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"] = zeros([64, 2]),
        })), "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", "[2, 31]", "[2, 32]");
        Expect<InvalidDataException>(Variant("unknownkey", d => Safetensors.Save(weights(d), new Dictionary<string, Tensor>
        {
            ["base_model.model.model.embed_tokens.lora_embedding_A"] = zeros([2, 67]),
        })), "lora_embedding_A", "not supported");
        Expect<InvalidDataException>(Variant("nomodule", d => Safetensors.Save(weights(d), new Dictionary<string, Tensor>
        {
            ["base_model.model.model.layers.9.self_attn.q_proj.lora_A.weight"] = zeros([2, 32]),
            ["base_model.model.model.layers.9.self_attn.q_proj.lora_B.weight"] = zeros([64, 2]),
        })), "adapter_model.safetensors", "model.layers.9.self_attn.q_proj", "no such linear layer");
        Expect<InvalidDataException>(Variant("rank", d => File.WriteAllText(cfg(d), File.ReadAllText(cfg(d)).Replace("\"r\": 2", "\"r\": 4"))), "rank 4", "lora_A.weight");
        Expect<InvalidDataException>(Variant("olora", d => File.WriteAllText(cfg(d), File.ReadAllText(cfg(d)).Replace("\"init_lora_weights\": true", "\"init_lora_weights\": \"olora\""))), "init_lora_weights", "olora");
        Expect<InvalidDataException>(Variant("halfpair", d => Safetensors.Save(weights(d), new Dictionary<string, Tensor>
        {
            ["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"] = zeros([2, 32]),
        })), "lora_A but no lora_B");
    }

    [Fact]
    public void ADoraAdapter_LoadedAsLora_OrTheOtherWayRound_IsAnErrorNamingUseDora()
    {
        var (model, adapted) = Trained(Models.Qwen3Json(), "dora", new JsonObject { ["r"] = 2 });
        using var _ = model;
        adapted.Save(Sub("dora"), new AdapterSaveOptions("base"));
        using var fresh = Checkpoint.Load(Sub("base"));
        var e = Assert.Throws<InvalidDataException>(() => new LoraMethod().Load(fresh, Models.Template, Sub("dora")));
        Assert.Contains("use_dora", e.Message);
        Assert.Contains("dora method", e.Message);
    }

    [Fact]
    public void Save_OverAnEarlierSave_LeavesNoTemporaryFiles_AndReplacesIt()
    {
        var (model, adapted) = Trained(Models.Qwen3Json(), "lora", new JsonObject { ["r"] = 2 });
        using var _ = model;
        adapted.Save(_dir, new AdapterSaveOptions("first"));
        adapted.Save(_dir, new AdapterSaveOptions("second"));
        Assert.Equal(["adapter_config.json", "adapter_model.safetensors", "base"], Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Contains("second", File.ReadAllText(Path.Combine(_dir, "adapter_config.json")));
    }
}
