using System.Text.Json.Nodes;
using FineTuneAgent.Core.Export;
using FineTuneAgent.Modeling.Adapters;
using FineTuneAgent.Modeling.Checkpoints;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Tests.Export;

/// <summary>
/// Merged export of every method on a tiny Qwen3 and a tiny Llama: reloaded by our loader, the
/// checkpoint gives the logits of base + adapter (the method's own unmerged forward) within 1e-4
/// and clearly not the base's; it holds exactly the base checkpoint's tensor names; QLoRA merges
/// into the original float32 weights, not the NF4 ones.
/// </summary>
public sealed class MergedExportTests : IDisposable
{
    private readonly ExportFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Theory]
    [InlineData("qwen3", "lora")]
    [InlineData("qwen3", "dora")]
    [InlineData("qwen3", "qlora")]
    [InlineData("qwen3", "freeze")]
    [InlineData("qwen3", "full")]
    [InlineData("llama", "lora")]
    [InlineData("llama", "dora")]
    [InlineData("llama", "qlora")]
    [InlineData("llama", "freeze")]
    [InlineData("llama", "full")]
    public void Merged_ReloadedByOurLoader_GivesBasePlusAdapterLogits(string family, string method)
    {
        var baseDir = _fx.BaseModel(family);
        var adapterDir = _fx.Adapter(baseDir, family, method);
        var outDir = Path.Combine(_fx.Root, $"merged-{family}-{method}");

        var result = MergedExporter.Export(ExportFixture.Host.Value, baseDir, adapterDir, outDir);

        Assert.Equal(method, result.Method);
        using var ids = ExportFixture.Ids(family == "qwen3" ? 67 : 71);
        // QLoRA's adapter applies to the unquantized base: what PEFT computes over the original weights.
        using var expected = ExportFixture.AdaptedLogits(baseDir, family, method == "qlora" ? "lora" : method, adapterDir, ids);
        using var merged = ExportFixture.Logits(outDir, ids);
        using var original = ExportFixture.Logits(baseDir, ids);
        Assert.True(ExportFixture.MaxAbsDiff(merged, expected) < 1e-4f, $"merged vs base+adapter: {ExportFixture.MaxAbsDiff(merged, expected)}");
        Assert.True(ExportFixture.MaxAbsDiff(merged, original) > 1e-2f, $"merged export equals the base (max diff {ExportFixture.MaxAbsDiff(merged, original)})");

        using var baseWeights = Safetensors.Open(baseDir);
        using var mergedWeights = Safetensors.Open(outDir);
        Assert.Equal(baseWeights.Names.Order(StringComparer.Ordinal), mergedWeights.Names.Order(StringComparer.Ordinal));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "config.json")))!.AsObject();
        Assert.Equal("float32", (string?)config["torch_dtype"]);
        Assert.Equal(family, (string?)config["model_type"]);
        foreach (var side in new[] { "generation_config.json", "tokenizer_config.json", "chat_template.jinja" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(baseDir, side)), File.ReadAllBytes(Path.Combine(outDir, side)));
        Assert.Contains("chat_template.jinja", result.CopiedFiles);
        Assert.Empty(Directory.EnumerateDirectories(_fx.Root, ".*"));
    }

    [Fact]
    public void QLora_MergesIntoTheOriginalFloat32Weights_NotTheDequantizedNf4Ones()
    {
        var baseDir = _fx.BaseModel("qwen3");
        var adapterDir = _fx.Adapter(baseDir, "qwen3", "qlora");
        var outDir = Path.Combine(_fx.Root, "merged-qlora");
        MergedExporter.Export(ExportFixture.Host.Value, baseDir, adapterDir, outDir);

        const string module = "model.layers.1.mlp.down_proj";
        using var scope = NewDisposeScope();
        // Independently of the exporter: W + (alpha / r)·B·A from the files themselves.
        using var baseWeights = Safetensors.Open(baseDir);
        using var adapter = Safetensors.Open(Path.Combine(adapterDir, "adapter_model.safetensors"));
        using var mergedWeights = Safetensors.Open(outDir);
        var w = baseWeights.Load(module + ".weight");
        var a = adapter.Load($"base_model.model.{module}.lora_A.weight");
        var b = adapter.Load($"base_model.model.{module}.lora_B.weight");
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(adapterDir, "adapter_config.json")))!;
        var scaling = (double)config["lora_alpha"]! / (double)config["r"]!;
        var expected = w.add(b.mm(a).mul(scaling));
        var merged = mergedWeights.Load(module + ".weight");
        Assert.True(ExportFixture.MaxAbsDiff(merged, expected) < 1e-5f, $"merged vs W + sBA: {ExportFixture.MaxAbsDiff(merged, expected)}");

        // What merging into the quantized model (as QLoRA trained it) would give instead.
        var host = ExportFixture.Host.Value;
        using var quantized = Checkpoint.Load(baseDir, ScalarType.Float32);
        host.Method("qlora").Load(quantized, host.TemplateNamed("qwen3"), adapterDir);
        var lora = (LoraLinear)ProjectionSlot.Of(quantized).Single(s => s.Name == module).Module;
        var nf4Merged = lora.BaseWeight(ScalarType.Float32).add(lora.DeltaWeight());
        Assert.True(ExportFixture.MaxAbsDiff(merged, nf4Merged) > 1e-3f, $"merged equals the dequantized NF4 weight + delta (diff {ExportFixture.MaxAbsDiff(merged, nf4Merged)})");
    }

    [Fact]
    public void NoAdapter_WritesTheBaseAsIs()
    {
        var baseDir = _fx.BaseModel("llama");
        var outDir = Path.Combine(_fx.Root, "plain");
        var result = MergedExporter.Export(ExportFixture.Host.Value, baseDir, null, outDir);
        Assert.Equal(0, result.MergedModules);
        using var ids = ExportFixture.Ids(71);
        using var a = ExportFixture.Logits(baseDir, ids);
        using var b = ExportFixture.Logits(outDir, ids);
        Assert.Equal(0f, ExportFixture.MaxAbsDiff(a, b));
    }

    [Theory]
    [InlineData("bf16", ScalarType.BFloat16, "BF16", "bfloat16")]
    [InlineData("f16", ScalarType.Float16, "F16", "float16")]
    public void DType_StoresEveryTensorAsThatDtype_RoundedOnceFromTheFloat32Merge(string option, ScalarType dtype, string stored, string torchDtype)
    {
        var baseDir = _fx.BaseModel("qwen3");
        var adapterDir = _fx.Adapter(baseDir, "qwen3", "dora");
        var f32Dir = Path.Combine(_fx.Root, "merged-f32");
        var lowDir = Path.Combine(_fx.Root, $"merged-{option}");
        MergedExporter.Export(ExportFixture.Host.Value, baseDir, adapterDir, f32Dir);
        MergedExporter.Export(ExportFixture.Host.Value, baseDir, adapterDir, lowDir, new MergedExportOptions { DType = ExportChoices.DType(option) });

        Assert.Equal(torchDtype, (string?)JsonNode.Parse(File.ReadAllText(Path.Combine(lowDir, "config.json")))!["torch_dtype"]);
        using var full = Safetensors.Open(f32Dir);
        using var low = Safetensors.Open(lowDir);
        foreach (var name in full.Names)
        {
            Assert.Equal(stored, low.GetInfo(name).DType.ToString());
            using var expected = full.Load(name);
            using var rounded = expected.to_type(dtype);
            using var actual = low.Load(name);
            Assert.Equal(rounded.to_type(ScalarType.Float32).data<float>().ToArray(), actual.to_type(ScalarType.Float32).data<float>().ToArray());
        }
        // And our loader reads it back (bf16 runs as stored; CPU libtorch 1.13 has no f16 matmul, so f16 is widened).
        using var ids = ExportFixture.Ids(67);
        using var f32Logits = ExportFixture.Logits(f32Dir, ids);
        using var lowLogits = ExportFixture.Logits(lowDir, ids, dtype == ScalarType.Float16 ? ScalarType.Float32 : dtype);
        Assert.True(ExportFixture.MaxAbsDiff(f32Logits, lowLogits) < 0.25f, $"{option} logits vs f32: {ExportFixture.MaxAbsDiff(f32Logits, lowLogits)}");
    }

    [Fact]
    public void SmallMaxShardSize_WritesHfShardsAndAnIndexWithEveryTensorOnce()
    {
        var baseDir = _fx.BaseModel("llama");
        var adapterDir = _fx.Adapter(baseDir, "llama", "lora");
        var outDir = Path.Combine(_fx.Root, "sharded");
        var single = Path.Combine(_fx.Root, "single");
        MergedExporter.Export(ExportFixture.Host.Value, baseDir, adapterDir, outDir, new MergedExportOptions { MaxShardSize = "20KB" });
        MergedExporter.Export(ExportFixture.Host.Value, baseDir, adapterDir, single);

        Assert.False(File.Exists(Path.Combine(outDir, "model.safetensors")));
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "model.safetensors.index.json")))!.AsObject();
        var weightMap = index["weight_map"]!.AsObject().ToDictionary(kv => kv.Key, kv => (string)kv.Value!);
        var shards = Directory.EnumerateFiles(outDir, "*.safetensors").Select(p => Path.GetFileName(p)).Order(StringComparer.Ordinal).ToList();
        Assert.True(shards.Count > 2, $"only {shards.Count} shard(s)");
        for (var i = 0; i < shards.Count; i++)
            Assert.Equal($"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors", shards[i]);
        Assert.Equal(shards, weightMap.Values.Distinct().Order(StringComparer.Ordinal).ToList());

        // Every tensor of the model in exactly one shard, where the index says; total_size = tensor bytes.
        var seen = new Dictionary<string, string>();
        long bytes = 0;
        foreach (var shard in shards)
        {
            using var file = SafetensorsFile.Open(Path.Combine(outDir, shard));
            Assert.True(new FileInfo(Path.Combine(outDir, shard)).Length < 20_000 + 4096 || file.Names.Count == 1);
            foreach (var name in file.Names)
            {
                seen.Add(name, shard); // throws on a tensor in two shards
                var info = file.GetInfo(name);
                bytes += info.Shape.Aggregate(1L, (a, b) => a * b) * 4;
            }
        }
        Assert.Equal(weightMap.OrderBy(kv => kv.Key), seen.OrderBy(kv => kv.Key));
        using (var reference = Safetensors.Open(single))
            Assert.Equal(reference.Names.Order(StringComparer.Ordinal), seen.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(bytes, (long)index["metadata"]!["total_size"]!);

        using var ids = ExportFixture.Ids(71);
        using var a = ExportFixture.Logits(outDir, ids);
        using var b = ExportFixture.Logits(single, ids);
        Assert.Equal(0f, ExportFixture.MaxAbsDiff(a, b));
    }

    [Theory]
    [InlineData("qwen3", "lora")]
    [InlineData("llama", "dora")]
    public void PlainPyTorch_LoadsTheShardedMergedFolder_AndMatchesPeftAppliedToTheBase(string family, string method)
    {
        var baseDir = _fx.BaseModel(family);
        var adapterDir = _fx.Adapter(baseDir, family, method);
        var outDir = Path.Combine(_fx.Root, $"py-{family}-{method}");
        MergedExporter.Export(ExportFixture.Host.Value, baseDir, adapterDir, outDir, new MergedExportOptions { MaxShardSize = "30KB" });
        Assert.True(File.Exists(Path.Combine(outDir, "model.safetensors.index.json")));

        var vocab = family == "qwen3" ? 67 : 71;
        using var ids = ExportFixture.Ids(vocab);
        var input = Path.Combine(_fx.Root, $"input-{family}.json");
        var rows = Enumerable.Range(0, 2).Select(r => new JsonArray(ids[r].data<long>().ToArray().Select(v => (JsonNode?)v).ToArray())).ToArray();
        File.WriteAllText(input, new JsonObject { ["input_ids"] = new JsonArray(rows) }.ToJsonString());
        var mergedOut = Path.Combine(_fx.Root, $"merged-{family}.bin");
        var peftOut = Path.Combine(_fx.Root, $"peft-{family}.bin");
        ExportFixture.Python("reference_model.py", outDir, input, mergedOut);
        ExportFixture.Python("peft_reference.py", "apply", baseDir, adapterDir, input, peftOut);

        long[] shape = [2, 9, vocab];
        using var pyMerged = ExportFixture.ReadFloats(mergedOut, shape);
        using var pyPeft = ExportFixture.ReadFloats(peftOut, shape);
        using var ours = ExportFixture.Logits(outDir, ids);
        using var original = ExportFixture.Logits(baseDir, ids);
        Assert.True(ExportFixture.MaxAbsDiff(pyMerged, pyPeft) < 1e-4f, $"PyTorch: merged folder vs PEFT over the base: {ExportFixture.MaxAbsDiff(pyMerged, pyPeft)}");
        Assert.True(ExportFixture.MaxAbsDiff(ours, pyMerged) < 1e-4f, $"ours vs PyTorch on the merged folder: {ExportFixture.MaxAbsDiff(ours, pyMerged)}");
        Assert.True(ExportFixture.MaxAbsDiff(pyPeft, original) > 1e-2f);
    }
}
