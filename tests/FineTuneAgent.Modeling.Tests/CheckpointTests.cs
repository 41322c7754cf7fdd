using System.Text.Json.Nodes;
using FineTuneAgent.Modeling.Checkpoints;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Layers;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Tests;

public sealed class CheckpointTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"fta-ckpt-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    private static CausalLM Model(JsonObject json, long seed = 1)
    {
        manual_seed(seed);
        return new CausalLM(TinyModels.Parse(json));
    }

    [Fact]
    public void SaveLoad_Float32_RestoresEveryTensorExactly_AndKeepsUnknownConfigFields()
    {
        var json = TinyModels.LlamaJson();
        json["custom_field"] = "kept";
        using var model = Model(json);
        Checkpoint.Save(model, _dir);
        Assert.True(File.Exists(Path.Combine(_dir, "model.safetensors")));
        using var loaded = Checkpoint.Load(_dir);
        foreach (var ((name, a), (_, b)) in model.state_dict().Zip(loaded.state_dict()))
            Assert.True(a.equal(b), name);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "config.json")))!;
        Assert.Equal("kept", (string?)config["custom_field"]);
        Assert.Equal("llama3", (string?)config["rope_scaling"]!["rope_type"]);
    }

    [Fact]
    public void Save_BFloat16Sharded_WritesIndex_AndLoadsIntoFloat32()
    {
        using var model = Model(TinyModels.Qwen3Json(tied: false));
        Checkpoint.Save(model, _dir, ScalarType.BFloat16, maxShardSize: "20KB");
        Assert.True(File.Exists(Path.Combine(_dir, "model.safetensors.index.json")));
        Assert.True(Directory.GetFiles(_dir, "model-*-of-*.safetensors").Length > 1);
        var config = ModelConfigReader.Load(Path.Combine(_dir, "config.json"));
        Assert.Equal("bfloat16", config.TorchDtype);
        using var asStored = Checkpoint.Load(_dir);
        Assert.Equal(ScalarType.BFloat16, asStored.model.norm.weight.dtype);
        using var loaded = Checkpoint.Load(_dir, ScalarType.Float32);
        foreach (var ((name, a), (_, b)) in model.state_dict().Zip(loaded.state_dict()))
        {
            using var rounded = a.to_type(ScalarType.BFloat16).to_type(ScalarType.Float32);
            Assert.True(rounded.equal(b), name);
            Assert.Equal(ScalarType.Float32, b.dtype);
        }
    }

    [Fact]
    public void Save_TiedModel_OmitsLmHead()
    {
        using var model = Model(TinyModels.Qwen3Json(tied: true));
        Checkpoint.Save(model, _dir);
        using var reader = Safetensors.Open(_dir);
        Assert.DoesNotContain("lm_head.weight", reader.Names);
        Assert.Contains("model.layers.0.self_attn.k_norm.weight", reader.Names);
    }

    [Fact]
    public void Load_MissingTensor_NamesIt()
    {
        using var model = Model(TinyModels.LlamaJson());
        var tensors = model.state_dict().Where(kv => kv.Key != "model.layers.1.mlp.up_proj.weight").ToDictionary();
        Directory.CreateDirectory(_dir);
        Safetensors.Save(Path.Combine(_dir, "model.safetensors"), tensors);
        File.WriteAllText(Path.Combine(_dir, "config.json"), TinyModels.LlamaJson().ToJsonString());
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(_dir));
        Assert.Contains("model.layers.1.mlp.up_proj.weight", e.Message);
        Assert.Contains(_dir, e.Message);
    }

    [Fact]
    public void Load_WrongShape_NamesTensorAndBothShapes()
    {
        using var model = Model(TinyModels.LlamaJson());
        Checkpoint.Save(model, _dir);
        var json = TinyModels.LlamaJson();
        json["intermediate_size"] = 100;
        File.WriteAllText(Path.Combine(_dir, "config.json"), json.ToJsonString());
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(_dir));
        Assert.Contains("'model.layers.0.mlp.gate_proj.weight' has shape [96, 64] in the checkpoint, but the model needs [100, 64]", e.Message);
    }

    [Fact]
    public void Load_TruncatedShard_ReportsTheFile()
    {
        using var model = Model(TinyModels.Qwen3Json(tied: false));
        Checkpoint.Save(model, _dir, maxShardSize: "40KB");
        var shard = Directory.GetFiles(_dir, "model-*-of-*.safetensors").OrderBy(f => f).Last();
        var bytes = File.ReadAllBytes(shard);
        File.WriteAllBytes(shard, bytes[..(bytes.Length - 100)]);
        var e = Assert.ThrowsAny<Exception>(() => Checkpoint.Load(_dir));
        Assert.Contains(Path.GetFileName(shard), e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Load_UnknownModelType_SaysWhatIsSupported()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "config.json"), "{\"model_type\": \"mistral\"}");
        var e = Assert.Throws<ModelConfigException>(() => Checkpoint.Load(_dir));
        Assert.Contains("unknown model_type \"mistral\" (supported: qwen3, llama)", e.Message);
    }

    [Fact]
    public void Load_NoWeights_SaysWhichFilesWereExpected()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "config.json"), TinyModels.LlamaJson().ToJsonString());
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(_dir));
        Assert.Contains("model.safetensors", e.Message);
    }
}
