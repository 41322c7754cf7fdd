using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Quantization;
using FineTuneAgent.Modeling.Adapters;
using FineTuneAgent.Modeling.Checkpoints;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Layers;
using FineTuneAgent.Modeling.Quantization;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Tests.Quantization;

/// <summary>
/// Loading a checkpoint straight into a quantized base (tensor by tensor, cached on disk) gives
/// the very model QLoRA builds by quantizing a full-precision load.
/// </summary>
public sealed class QuantizedBaseTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"fta-qbase-{Guid.NewGuid():N}");
    private readonly PluginHost _host = PluginHost.Load(Path.Combine(AppContext.BaseDirectory, "plugins"));

    public QuantizedBaseTests()
    {
        var json = new JsonObject
        {
            ["model_type"] = "llama", ["vocab_size"] = 50, ["hidden_size"] = 64, ["intermediate_size"] = 96, ["num_hidden_layers"] = 2,
            ["num_attention_heads"] = 4, ["num_key_value_heads"] = 2, ["max_position_embeddings"] = 64, ["rms_norm_eps"] = 1e-5,
            ["rope_theta"] = 10000.0, ["torch_dtype"] = "float32", ["initializer_range"] = 0.2,
        };
        manual_seed(5);
        using var model = new CausalLM(ModelConfigReader.Parse(json, "config.json"));
        Checkpoint.Save(model, Base);
    }

    private string Base => Path.Combine(_dir, "base");

    private string Cache => Path.Combine(_dir, "cache");

    public void Dispose()
    {
        _host.Dispose();
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    private Tensor AdaptedLogits(CausalLM model, string settings)
    {
        var qlora = _host.Method("qlora");
        qlora.Adapt(model, _host.TemplateNamed("llama"), qlora.ParseSettings(JsonNode.Parse(settings)!.AsObject()));
        model.eval();
        using var ids = arange(0, 20, dtype: ScalarType.Int64).remainder(50).view(2, 10);
        using var _ = no_grad();
        return model.forward(ids);
    }

    [Theory]
    [InlineData("nf4", "{\"r\": 2}")]
    [InlineData("int8", "{\"r\": 2, \"quant_type\": \"int8\"}")]
    public void StreamedQuantizedLoad_EqualsQLoraOverAFullPrecisionLoad(string type, string settings)
    {
        using var full = Checkpoint.Load(Base);
        using var expected = AdaptedLogits(full, settings);
        var progress = new List<QuantizationProgress>();
        var result = QuantizedBase.Load(Base, type == "nf4" ? QuantizationScheme.Nf4 : QuantizationScheme.Int8, progress: new SyncProgress<QuantizationProgress>(progress.Add));
        using var model = result.Model;
        Assert.All(ProjectionSlot.Of(model), s => Assert.IsType(type == "nf4" ? typeof(Nf4Linear) : typeof(Int8Linear), s.Module));
        Assert.Equal(14, progress.Count);
        Assert.Equal(14, progress[^1].Done);
        using var actual = AdaptedLogits(model, settings);
        Assert.True(actual.equal(expected));
    }

    [Fact]
    public void Cache_IsWrittenOnce_ReadNextTime_AndADamagedFileIsRebuilt()
    {
        using var reference = QuantizedBase.Load(Base, QuantizationScheme.Nf4).Model;
        using var expected = AdaptedLogits(reference, "{\"r\": 2}");

        var first = QuantizedBase.Load(Base, QuantizationScheme.Nf4, cacheDir: Cache);
        first.Model.Dispose();
        Assert.False(first.FromCache);
        Assert.True(File.Exists(first.CacheFile));

        var progress = new List<QuantizationProgress>();
        var second = QuantizedBase.Load(Base, QuantizationScheme.Nf4, cacheDir: Cache, progress: new SyncProgress<QuantizationProgress>(progress.Add));
        using (second.Model)
        {
            Assert.True(second.FromCache);
            Assert.All(progress, p => Assert.True(p.FromCache));
            using var cached = AdaptedLogits(second.Model, "{\"r\": 2}");
            Assert.True(cached.equal(expected));
        }

        // Another scheme is another cache entry.
        var other = QuantizedBase.Load(Base, QuantizationScheme.Nf4 with { BlockSize = 32 }, cacheDir: Cache);
        other.Model.Dispose();
        Assert.False(other.FromCache);
        Assert.NotEqual(first.CacheFile, other.CacheFile);

        var bytes = File.ReadAllBytes(first.CacheFile!);
        File.WriteAllBytes(first.CacheFile!, bytes[..(bytes.Length / 2)]);
        var damaged = QuantizedBase.Load(Base, QuantizationScheme.Nf4, cacheDir: Cache);
        using (damaged.Model)
        {
            Assert.False(damaged.FromCache);
            Assert.Contains(first.CacheFile!, damaged.CacheProblem);
            using var rebuilt = AdaptedLogits(damaged.Model, "{\"r\": 2}");
            Assert.True(rebuilt.equal(expected));
        }
        var again = QuantizedBase.Load(Base, QuantizationScheme.Nf4, cacheDir: Cache);
        again.Model.Dispose();
        Assert.True(again.FromCache);
    }

    [Fact]
    public void AChangedCheckpoint_MissesTheCache()
    {
        QuantizedBase.Load(Base, QuantizationScheme.Nf4, cacheDir: Cache).Model.Dispose();
        using (var model = Checkpoint.Load(Base))
        {
            using (no_grad())
                model.model.norm.weight.mul_(2);
            Checkpoint.Save(model, Base);
        }
        var result = QuantizedBase.Load(Base, QuantizationScheme.Nf4, cacheDir: Cache);
        result.Model.Dispose();
        Assert.False(result.FromCache);
    }

    [Fact]
    public void QLoraSettings_ThatDisagreeWithTheLoadedStorage_OrPissaOverIt_AreSettingsErrors()
    {
        using var model = QuantizedBase.Load(Base, QuantizationScheme.Nf4).Model;
        var qlora = _host.Method("qlora");
        var e = Assert.Throws<MethodSettingsException>(() => qlora.Adapt(model, _host.TemplateNamed("llama"), qlora.ParseSettings(new JsonObject { ["blocksize"] = 32 })));
        Assert.Equal("quant_type", e.Field);
        e = Assert.Throws<MethodSettingsException>(() => qlora.Adapt(model, _host.TemplateNamed("llama"), qlora.ParseSettings(new JsonObject { ["init_lora_weights"] = "pissa" })));
        Assert.Equal("init_lora_weights", e.Field);
    }

    [Fact]
    public void EnsureCached_QuantizesIntoTheCache_ThatALaterLoadReads_AndFindsItTheSecondTime()
    {
        using var reference = QuantizedBase.Load(Base, QuantizationScheme.Nf4).Model;
        using var expected = AdaptedLogits(reference, "{\"r\": 2}");

        var progress = new List<QuantizationProgress>();
        var made = QuantizedBase.EnsureCached(Base, QuantizationScheme.Nf4, Cache, progress: new SyncProgress<QuantizationProgress>(progress.Add));
        Assert.False(made.FromCache);
        Assert.Equal(14, made.Tensors);
        Assert.True(File.Exists(made.CacheFile));
        Assert.Equal(Enumerable.Range(1, 14), progress.Select(p => p.Done));
        Assert.All(progress, p => Assert.False(p.FromCache));

        var loaded = QuantizedBase.Load(Base, QuantizationScheme.Nf4, cacheDir: Cache);
        using (loaded.Model)
        {
            Assert.True(loaded.FromCache);
            Assert.Equal(made.CacheFile, loaded.CacheFile);
            using var fromCache = AdaptedLogits(loaded.Model, "{\"r\": 2}");
            Assert.True(fromCache.equal(expected));
        }

        progress.Clear();
        var found = QuantizedBase.EnsureCached(Base, QuantizationScheme.Nf4, Cache, progress: new SyncProgress<QuantizationProgress>(progress.Add));
        Assert.True(found.FromCache);
        Assert.Equal(made.CacheFile, found.CacheFile);
        Assert.Equal(14, progress.Count);
        Assert.All(progress, p => Assert.True(p.FromCache));
    }

    [Fact]
    public void EnsureCached_Cancelled_StopsBetweenTensors_AndWritesNoCache()
    {
        using var cancel = new CancellationTokenSource();
        var progress = new List<QuantizationProgress>();
        var report = new SyncProgress<QuantizationProgress>(p =>
        {
            progress.Add(p);
            if (p.Done == 3)
                cancel.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() => QuantizedBase.EnsureCached(Base, QuantizationScheme.Nf4, Cache, progress: report, cancellation: cancel.Token));
        Assert.Equal(3, progress.Count);
        Assert.Empty(Directory.GetFiles(Cache, "qbase-*"));
    }

    [Theory]
    [InlineData("{\"r\": 8}", null)]
    [InlineData("{\"quant_type\": \"nf4\"}", "nf4-b64-dq")]
    [InlineData("{\"quant_type\": \"nf4\", \"blocksize\": 128, \"double_quant\": false}", "nf4-b128")]
    [InlineData("{\"quant_type\": \"int8\"}", "int8")]
    public void FromMethodSettings_ReadsTheQuantizationTheSettingsAskFor(string settings, string? key)
    {
        var scheme = QuantizationScheme.FromMethodSettings(JsonNode.Parse(settings)!.AsObject());
        Assert.Equal(key, scheme?.Key);
    }

    [Fact]
    public void FromMethodSettings_OfQLorasOwnSettings_IsTheStorageItsAdaptExpects()
    {
        var qlora = _host.Method("qlora");
        var settings = qlora.ParseSettings(new JsonObject { ["r"] = 2, ["blocksize"] = 32 });
        var scheme = QuantizationScheme.FromMethodSettings(settings.ToJson())!;
        Assert.Equal("nf4-b32-dq", scheme.Key);
        // A base loaded with that scheme is accepted by QLoRA with those settings.
        using var model = QuantizedBase.Load(Base, scheme).Model;
        var adapted = qlora.Adapt(model, _host.TemplateNamed("llama"), settings);
        Assert.NotEmpty(adapted.TrainableParameters);
    }

    [Fact]
    public void AMissingProjection_IsACheckpointErrorNamingTheTensor()
    {
        var broken = Path.Combine(_dir, "broken");
        Directory.CreateDirectory(broken);
        File.Copy(Path.Combine(Base, "config.json"), Path.Combine(broken, "config.json"));
        var tensors = FineTuneAgent.Torch.Safetensors.Load(Path.Combine(Base, "model.safetensors"));
        tensors.Remove("model.layers.1.mlp.up_proj.weight", out var removed);
        removed!.Dispose();
        FineTuneAgent.Torch.Safetensors.Save(Path.Combine(broken, "model.safetensors"), tensors);
        foreach (var t in tensors.Values)
            t.Dispose();
        var e = Assert.Throws<CheckpointException>(() => QuantizedBase.Load(broken, QuantizationScheme.Nf4));
        Assert.Contains("model.layers.1.mlp.up_proj.weight", e.Message);
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; tests want the reports in order, now.</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
