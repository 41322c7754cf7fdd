using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Methods.Freeze;
using FineTuneAgent.Methods.Full;
using FineTuneAgent.Modeling.Checkpoints;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Methods.Tests;

public sealed class FreezeAndFullTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"fta-freeze-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Freeze_SavesOnlyTheTrainedTensors_AndLoadingThemOverTheBaseReproducesTheModel()
    {
        using var model = Models.Build(Models.LlamaJson());
        Checkpoint.Save(model, Path.Combine(_dir, "base"));
        var m = new FreezeMethod();
        var adapted = m.Adapt(model, Models.Template, m.ParseSettings(new JsonObject { ["freeze_trainable_layers"] = 1, ["freeze_extra_modules"] = new JsonArray("lm_head") }));
        Models.Train(model, adapted.ParameterGroups(0.01, 0.0));
        var save = Path.Combine(_dir, "save");
        adapted.Save(save, new AdapterSaveOptions("base"));
        using (var reader = Safetensors.Open(Path.Combine(save, "trained_tensors.safetensors")))
        {
            Assert.Contains("lm_head.weight", reader.Names);
            Assert.All(reader.Names, n => Assert.True(n == "lm_head.weight" || n.StartsWith("model.layers.1.", StringComparison.Ordinal), n));
            Assert.Equal(adapted.TrainableParameters.Count, reader.Names.Count);
        }
        using var ids = Models.Tokens(model);
        using var expected = Models.Logits(model, ids);
        using var fresh = Checkpoint.Load(Path.Combine(_dir, "base"));
        using var untouched = Models.Logits(fresh, ids);
        Assert.True(Models.MaxAbsDiff(untouched, expected) > 1e-3f);
        var loaded = m.Load(fresh, Models.Template, save);
        using var actual = Models.Logits(fresh, ids);
        Assert.True(actual.equal(expected));
        Assert.Equal(adapted.TrainableParameters.Select(p => p.Name), loaded.TrainableParameters.Select(p => p.Name));
    }

    [Fact]
    public void Freeze_OnATiedModel_TrainingTheHeadTrainsTheSharedEmbedding()
    {
        using var model = Models.Build(Models.Qwen3Json(tied: true));
        var m = new FreezeMethod();
        var adapted = m.Adapt(model, Models.Template, m.ParseSettings(new JsonObject { ["freeze_trainable_layers"] = 1, ["freeze_extra_modules"] = "lm_head" }));
        Assert.Contains(adapted.TrainableParameters, p => p.Name == "model.embed_tokens.weight");
    }

    [Theory]
    [InlineData("{\"freeze_trainable_layers\": 0}", "freeze_trainable_layers", "trains no layer")]
    [InlineData("{\"freeze_trainable_layer\": 2}", "freeze_trainable_layer", "did you mean 'freeze_trainable_layers'")]
    [InlineData("{\"freeze_extra_modules\": [\"embeddings\"]}", "freeze_extra_modules", "not one of")]
    [InlineData("{\"freeze_trainable_modules\": 3}", "freeze_trainable_modules", "expected a list")]
    public void Freeze_BadSettings_NameTheField(string json, string field, string message)
    {
        var e = Assert.Throws<MethodSettingsException>(() => new FreezeMethod().ParseSettings(JsonNode.Parse(json)!.AsObject()));
        Assert.Equal(field, e.Field);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Freeze_MoreLayersThanTheModelHas_OrAnUnknownModule_IsAnError()
    {
        using var model = Models.Build(Models.Qwen3Json());
        var m = new FreezeMethod();
        var e = Assert.Throws<MethodSettingsException>(() => m.Adapt(model, Models.Template, m.ParseSettings(new JsonObject { ["freeze_trainable_layers"] = 3 })));
        Assert.Contains("the model has 2", e.Message);
        e = Assert.Throws<MethodSettingsException>(() => m.Adapt(model, Models.Template, m.ParseSettings(new JsonObject { ["freeze_trainable_modules"] = "mlpp" })));
        Assert.Equal("freeze_trainable_modules", e.Field);
    }

    [Fact]
    public void Full_SavesAWholeCheckpoint_ThatLoadsAsAModelAndAsAFullRun()
    {
        using var model = Models.Build(Models.Qwen3Json());
        var m = new FullMethod();
        var adapted = m.Adapt(model, Models.Template, m.ParseSettings(null));
        Models.Train(model, adapted.ParameterGroups(0.01, 0.01));
        var save = Path.Combine(_dir, "full");
        adapted.Save(save, new AdapterSaveOptions("base"));
        using var ids = Models.Tokens(model);
        using var expected = Models.Logits(model, ids);
        using var asModel = Checkpoint.Load(save);
        using var a = Models.Logits(asModel, ids);
        Assert.True(a.equal(expected));
        using var other = Models.Build(Models.Qwen3Json(), seed: 99);
        m.Load(other, Models.Template, save);
        using var b = Models.Logits(other, ids);
        Assert.True(b.equal(expected));
        Assert.Throws<MethodSettingsException>(() => m.ParseSettings(new JsonObject { ["r"] = 8 }));
    }

    [Fact]
    public void Loading_ASaveOfAnotherMethod_IsAnErrorNamingTheFile()
    {
        using var model = Models.Build(Models.Qwen3Json());
        var full = new FullMethod();
        full.Adapt(model, Models.Template, full.ParseSettings(null)).Save(_dir, new AdapterSaveOptions("base"));
        using var other = Models.Build(Models.Qwen3Json());
        var e = Assert.Throws<InvalidDataException>(() => new FreezeMethod().Load(other, Models.Template, _dir));
        Assert.Contains("fta_method.json", e.Message);
        Assert.Contains("\"full\", expected \"freeze\"", e.Message);
    }
}
