using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Core.Export.Gguf;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Tests.Training;
using FineTuneAgent.Modeling.Checkpoints;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Tests.Export.Gguf;

/// <summary>
/// GGUF LoRA adapters: llama.cpp applying ours on the base GGUF gives the log-probabilities of our
/// base + PEFT adapter (plain LoRA on Qwen3; rsLoRA with an alpha_pattern on Llama, whose q/k
/// lora_B rows are permuted), and DoRA is refused with a reason.
/// </summary>
[Collection(GeneratorCollection.Name)]
public sealed class GgufAdapterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fta-gguf-lora-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Adapts the model with the method's settings, gives every lora_B random values (a fresh adapter is a no-op) and saves it.</summary>
    private static string SaveAdapter(string modelDir, string method, JsonObject settings, string adapterDir)
    {
        using var plugins = PluginHost.Load();
        var m = plugins.Method(method);
        using var model = Checkpoint.Load(modelDir, ScalarType.Float32);
        var template = plugins.TemplateFor(model.Config.ModelType);
        var adapted = m.Adapt(model, template, m.ParseSettings(settings));
        manual_seed(17);
        using (no_grad())
        {
            foreach (var (name, p) in adapted.TrainableParameters)
            {
                if (name.Contains("lora_B", StringComparison.Ordinal))
                {
                    using var r = randn(p.shape).mul(0.3);
                    p.copy_(r);
                }
            }
        }
        adapted.Save(adapterDir, new AdapterSaveOptions(modelDir));
        return adapterDir;
    }

    private static float[][] OurAdaptedLogProbs(string modelDir, string method, string adapterDir, int[] ids)
    {
        using var plugins = PluginHost.Load();
        using var model = Checkpoint.Load(modelDir, ScalarType.Float32);
        var template = plugins.TemplateFor(model.Config.ModelType);
        plugins.Method(method).Load(model, template, adapterDir);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var input = tensor(ids.Select(i => (long)i).ToArray(), [1, ids.Length]);
        var lp = model.forward(input).log_softmax(-1).contiguous().data<float>();
        var v = lp.Length / ids.Length;
        return Enumerable.Range(0, ids.Length).Select(p => lp.AsSpan(p * v, v).ToArray()).ToArray();
    }

    private static double MaxDiff(float[][] a, float[][] b) =>
        a.Zip(b).Max(p => p.First.Zip(p.Second).Max(x => Math.Abs(x.First - x.Second)));

    [Theory]
    [InlineData("qwen3", "{\"r\": 4, \"lora_alpha\": 8}")]
    [InlineData("llama3", "{\"r\": 4, \"lora_alpha\": 6, \"use_rslora\": true, \"alpha_pattern\": {\"v_proj\": 3}}")]
    public void Adapter_AppliedByLlamaCppOnTheBaseGguf_GivesOurBasePlusAdapter(string family, string settings)
    {
        var modelDir = family == "qwen3"
            ? TinyGgufModels.Qwen3(Directory.CreateDirectory(Path.Combine(_dir, "base")).FullName)
            : TinyGgufModels.Llama3(Directory.CreateDirectory(Path.Combine(_dir, "base")).FullName);
        var adapterDir = SaveAdapter(modelDir, "lora", JsonNode.Parse(settings)!.AsObject(), Path.Combine(_dir, "adapter"));
        int[] ids = family == "qwen3" ? [9707, 11, 1879, 0, 576, 374, 264, 1273] : [128000, 9906, 11, 1917, 0, 1115, 374, 264];

        var baseGguf = Path.Combine(_dir, "out", "base.gguf");
        Directory.CreateDirectory(Path.GetDirectoryName(baseGguf)!);
        GgufExporter.ExportModel(modelDir, baseGguf, GgufQuant.F32);
        var adapterGguf = Path.Combine(_dir, "out", "adapter.gguf");
        var progress = new List<GgufExportProgress>();
        GgufExporter.ExportAdapter(modelDir, adapterDir, adapterGguf, new SyncProgress(progress.Add));

        var file = GgufFile.Read(adapterGguf);
        Assert.Equal("adapter", file["general.type"].AsString());
        Assert.Equal("lora", file["adapter.type"].AsString());
        Assert.Equal(2 * 7 * 2, file.Tensors.Count);       // A and B for 7 projections in 2 layers
        Assert.Equal(file.Tensors.Count, progress.Count);
        Assert.Equal([64L, 4L], file.Tensor("blk.0.attn_q.weight.lora_a").Dimensions);

        var expected = OurAdaptedLogProbs(modelDir, "lora", adapterDir, ids);
        var baseOnly = LlamaCpp.Run(baseGguf, logprobs: ids);
        var withAdapter = LlamaCpp.Run(baseGguf, lora: adapterGguf, logprobs: ids);
        var adapterEffect = MaxDiff(expected, baseOnly.LogProbs!);
        Assert.True(adapterEffect > 0.1, $"the adapter changes log-probabilities by only {adapterEffect}: the test would not see a dropped adapter");
        var diff = MaxDiff(expected, withAdapter.LogProbs!);
        Assert.True(diff < 1e-3, $"llama.cpp base + GGUF adapter differs from our base + PEFT adapter by up to {diff}");
    }

    [Fact]
    public void DoraAdapter_IsRefusedWithTheReason()
    {
        var modelDir = TinyGgufModels.Qwen3(Directory.CreateDirectory(Path.Combine(_dir, "base")).FullName);
        var adapterDir = SaveAdapter(modelDir, "dora", new JsonObject { ["r"] = 4 }, Path.Combine(_dir, "dora"));
        var outPath = Path.Combine(_dir, "dora.gguf");
        var e = Assert.Throws<InvalidDataException>(() => GgufExporter.ExportAdapter(modelDir, adapterDir, outPath));
        Assert.Contains("use_dora", e.Message);
        Assert.Contains("llama.cpp has no DoRA", e.Message);
        Assert.False(File.Exists(outPath));
    }

    [Fact]
    public void Export_ExistingOutput_IsNotOverwritten()
    {
        var modelDir = TinyGgufModels.Qwen3(Directory.CreateDirectory(Path.Combine(_dir, "base")).FullName);
        var outPath = Path.Combine(_dir, "taken.gguf");
        File.WriteAllText(outPath, "keep me");
        var e = Assert.Throws<IOException>(() => GgufExporter.ExportModel(modelDir, outPath, GgufQuant.F16));
        Assert.Contains("already exists", e.Message);
        Assert.Equal("keep me", File.ReadAllText(outPath));
    }

    /// <summary>IProgress that reports on the caller's thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SyncProgress(Action<GgufExportProgress> report) : IProgress<GgufExportProgress>
    {
        public void Report(GgufExportProgress value) => report(value);
    }
}
