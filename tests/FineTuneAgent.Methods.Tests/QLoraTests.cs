using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Methods.Lora;
using FineTuneAgent.Methods.QLora;
using FineTuneAgent.Modeling.Adapters;
using FineTuneAgent.Modeling.Checkpoints;
using FineTuneAgent.Modeling.Quantization;
using FineTuneAgent.Torch.Modules;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Methods.Tests;

public sealed class QLoraTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"fta-qlora-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    [Theory]
    [InlineData("nf4")]
    [InlineData("int8")]
    public void Adapt_QuantizesEveryProjection_WrapsOnlyTheTargets_AndStartsAsTheQuantizedBase(string quantType)
    {
        using var model = Models.Build(Models.LlamaJson());
        using var reference = Models.Build(Models.LlamaJson());
        using var ids = Models.Tokens(model);
        var m = new QLoraMethod();
        var adapted = (QLoraAdaptedModel)m.Adapt(model, Models.Template, m.ParseSettings(new JsonObject { ["r"] = 4, ["quant_type"] = quantType, ["target_modules"] = new JsonArray("q_proj", "v_proj") }));
        var slots = ProjectionSlot.Of(model);
        Assert.Equal(14, slots.Count);
        foreach (var slot in slots)
        {
            var isTarget = slot.ShortName is "q_proj" or "v_proj";
            var baseLayer = isTarget ? Assert.IsType<LoraLinear>(slot.Module).BaseLayer : slot.Module;
            Assert.IsType(quantType == "nf4" ? typeof(Nf4Linear) : typeof(Int8Linear), baseLayer);
        }
        Assert.DoesNotContain(model.named_parameters(), p => p.name.EndsWith("_proj.weight"));

        // The reference holds each projection's weight as its dequantized value: a fresh adapter adds nothing.
        using (no_grad())
        {
            foreach (var (slot, refSlot) in slots.Zip(ProjectionSlot.Of(reference)))
            {
                var frozen = (IFrozenLinear)(slot.Module is LoraLinear l ? l.BaseLayer : slot.Module);
                using var w = frozen.DequantizeWeight(ScalarType.Float32);
                ((Linear)refSlot.Module).weight.copy_(w);
            }
        }
        using var expected = Models.Logits(reference, ids);
        using var actual = Models.Logits(model, ids);
        Assert.True(Models.MaxAbsDiff(expected, actual) <= 1e-4f, $"{Models.MaxAbsDiff(expected, actual)}");
        // … and quantization did change the model.
        using var original = Models.Build(Models.LlamaJson());
        using var fp = Models.Logits(original, ids);
        Assert.True(Models.MaxAbsDiff(fp, actual) > 1e-4f);
    }

    [Fact]
    public void SavedAdapter_LoadsOverTheFullPrecisionBase_WithIdenticalOutputs_AndRecordsTheQuantization()
    {
        using var model = Models.Build(Models.Qwen3Json());
        Checkpoint.Save(model, Path.Combine(_dir, "base"));
        var m = new QLoraMethod();
        var adapted = m.Adapt(model, Models.Template, m.ParseSettings(new JsonObject { ["r"] = 4, ["blocksize"] = 32, ["use_dora"] = true }));
        Models.Train(model, adapted.ParameterGroups(0.05, 0));
        var save = Path.Combine(_dir, "adapter");
        adapted.Save(save, new AdapterSaveOptions("base"));
        Assert.True(File.Exists(Path.Combine(save, "adapter_config.json")));
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(save, "fta_method.json")))!;
        Assert.Equal(32, (int)record["settings"]!["blocksize"]!);
        using var ids = Models.Tokens(model);
        using var expected = Models.Logits(model, ids);
        using var fresh = Checkpoint.Load(Path.Combine(_dir, "base"));
        var loaded = (QLoraAdaptedModel)m.Load(fresh, Models.Template, save);
        Assert.Equal(32, ((QLoraSettings)loaded.Settings).BlockSize);
        using var actual = Models.Logits(fresh, ids);
        Assert.True(actual.equal(expected), $"{Models.MaxAbsDiff(actual, expected)}");
    }

    /// <summary>Merging into NF4 is dequantize, add ΔW, quantize again; unmerging the same with −ΔW (lossy, as in PEFT).</summary>
    [Fact]
    public void MergeIntoTheQuantizedBase_IsRequantizationOfBasePlusDelta()
    {
        using var model = Models.Build(Models.Qwen3Json());
        var m = new QLoraMethod();
        var adapted = (QLoraAdaptedModel)m.Adapt(model, Models.Template, m.ParseSettings(new JsonObject { ["r"] = 4, ["target_modules"] = new JsonArray("q_proj") }));
        Models.Train(model, adapted.ParameterGroups(0.05, 0));
        var layer = adapted.Lora.Layers["model.layers.1.self_attn.q_proj"];
        var frozen = (Nf4Linear)layer.BaseLayer;
        using var scope = NewDisposeScope();
        var before = frozen.Dequantize(ScalarType.Float32);
        var delta = layer.DeltaWeight();
        Assert.True(delta.abs().max().ToSingle() > 1e-3f);
        using var expectedMerged = Nf4Quantizer.Quantize(before.add(delta));
        adapted.Merge();
        var merged = frozen.Dequantize(ScalarType.Float32);
        Assert.True(merged.equal(expectedMerged.Dequantize(ScalarType.Float32)));
        using var expectedBack = Nf4Quantizer.Quantize(merged.sub(delta));
        adapted.Unmerge();
        Assert.True(frozen.Dequantize(ScalarType.Float32).equal(expectedBack.Dequantize(ScalarType.Float32)));
    }

    [Fact]
    public void Pissa_TakesItsShareBeforeQuantizing_TheResidual()
    {
        using var model = Models.Build(Models.LlamaJson());
        using var plain = Models.Build(Models.LlamaJson());
        using var ids = Models.Tokens(model);
        using var fp = Models.Logits(plain, ids);
        var m = new QLoraMethod();
        m.Adapt(model, Models.Template, m.ParseSettings(new JsonObject { ["r"] = 8, ["init_lora_weights"] = "pissa" }));
        using var pissa = Models.Logits(model, ids);
        using var qmodel = Models.Build(Models.LlamaJson());
        m.Adapt(qmodel, Models.Template, m.ParseSettings(new JsonObject { ["r"] = 8 }));
        using var quantized = Models.Logits(qmodel, ids);
        // The principal part stays in full precision, so PiSSA's start is closer to the original than plain QLoRA's.
        Assert.True(Models.MaxAbsDiff(fp, pissa) < Models.MaxAbsDiff(fp, quantized), $"pissa {Models.MaxAbsDiff(fp, pissa)} vs qlora {Models.MaxAbsDiff(fp, quantized)}");
    }

    [Theory]
    [InlineData("{\"quant_type\": \"fp4\"}", "quant_type", "not one of")]
    [InlineData("{\"blocksize\": 48}", "blocksize", "not one of bitsandbytes' block sizes")]
    [InlineData("{\"quant_type\": \"int8\", \"blocksize\": 64}", "blocksize", "nf4 only")]
    [InlineData("{\"double_qaunt\": false}", "double_qaunt", "did you mean 'double_quant'")]
    public void BadSettings_NameTheField(string json, string field, string message)
    {
        var e = Assert.Throws<MethodSettingsException>(() => new QLoraMethod().ParseSettings(JsonNode.Parse(json)!.AsObject()));
        Assert.Equal(field, e.Field);
        Assert.Contains(message, e.Message);
    }
}
