using System.Text.Json.Nodes;
using FineTuneAgent.Modeling.Config;

namespace FineTuneAgent.Modeling.Tests;

public class ModelConfigTests
{
    [Fact]
    public void Parse_Qwen3_0_6B_MatchesPublishedShapeAndParameterCount()
    {
        // Qwen/Qwen3-0.6B config.json values (FACTS §2.5).
        var json = new JsonObject
        {
            ["model_type"] = "qwen3", ["hidden_size"] = 1024, ["num_hidden_layers"] = 28, ["num_attention_heads"] = 16,
            ["num_key_value_heads"] = 8, ["head_dim"] = 128, ["intermediate_size"] = 3072, ["vocab_size"] = 151936,
            ["max_position_embeddings"] = 40960, ["rope_theta"] = 1000000, ["rms_norm_eps"] = 1e-6, ["tie_word_embeddings"] = true,
            ["bos_token_id"] = 151643, ["eos_token_id"] = 151645, ["torch_dtype"] = "bfloat16",
        };
        var c = ModelConfigReader.Parse(json, "config.json");
        Assert.True(c.UseQkNorm);
        Assert.Equal(2, c.NumKeyValueGroups);
        Assert.Equal(596_049_920L, c.ParameterCount());
        Assert.Equal([151645], c.EosTokenIds);
    }

    [Fact]
    public void Parse_Llama32_1B_DerivesHeadDimAndReadsLlama3RopeScaling()
    {
        var json = new JsonObject
        {
            ["model_type"] = "llama", ["hidden_size"] = 2048, ["num_hidden_layers"] = 16, ["num_attention_heads"] = 32,
            ["num_key_value_heads"] = 8, ["intermediate_size"] = 8192, ["vocab_size"] = 128256, ["rope_theta"] = 500000.0,
            ["rms_norm_eps"] = 1e-5, ["tie_word_embeddings"] = true,
            ["rope_scaling"] = new JsonObject { ["rope_type"] = "llama3", ["factor"] = 32.0, ["low_freq_factor"] = 1.0, ["high_freq_factor"] = 4.0, ["original_max_position_embeddings"] = 8192 },
            ["eos_token_id"] = new JsonArray(128001, 128008, 128009),
        };
        var c = ModelConfigReader.Parse(json, "config.json");
        Assert.Equal(64, c.HeadDim);
        Assert.False(c.UseQkNorm);
        Assert.Equal(1_235_814_400L, c.ParameterCount());
        Assert.Equal(new RopeScaling("llama3", 32.0, 1.0, 4.0, 8192), c.RopeScaling);
        Assert.Equal([128001, 128008, 128009], c.EosTokenIds);
    }

    [Fact]
    public void Parse_OmittedFields_TakeHfDefaults()
    {
        var q = ModelConfigReader.Parse(new JsonObject { ["model_type"] = "qwen3" }, "config.json");
        Assert.Equal((151936, 4096, 22016, 32, 32, 32, 128), (q.VocabSize, q.HiddenSize, q.IntermediateSize, q.NumHiddenLayers, q.NumAttentionHeads, q.NumKeyValueHeads, q.HeadDim));
        Assert.Equal(10000.0, q.RopeTheta);
        Assert.False(q.TieWordEmbeddings);
        var l = ModelConfigReader.Parse(new JsonObject { ["model_type"] = "llama" }, "config.json");
        Assert.Equal((32000, 4096, 11008, 128, 2048), (l.VocabSize, l.HiddenSize, l.IntermediateSize, l.HeadDim, l.MaxPositionEmbeddings));
        Assert.Equal(1, l.BosTokenId);
        Assert.Equal([2], l.EosTokenIds);
    }

    [Theory]
    [InlineData("{}", "missing \"model_type\"")]
    [InlineData("{\"model_type\": \"gpt2\"}", "unknown model_type \"gpt2\" (supported: qwen3, llama)")]
    [InlineData("{\"model_type\": \"llama\", \"hidden_size\": \"big\"}", "\"hidden_size\" must be an integer, got \"big\"")]
    [InlineData("{\"model_type\": \"llama\", \"hidden_size\": 48, \"num_attention_heads\": 6, \"num_key_value_heads\": 4}", "not a multiple of num_key_value_heads 4")]
    [InlineData("{\"model_type\": \"llama\", \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4}}", "rope_scaling.rope_type \"yarn\" is not supported")]
    [InlineData("{\"model_type\": \"llama\", \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8}}", "rope_scaling: missing \"low_freq_factor\"")]
    [InlineData("{\"model_type\": \"qwen3\", \"hidden_act\": \"gelu\"}", "hidden_act \"gelu\" is not supported")]
    [InlineData("{\"model_type\": \"qwen3\", \"vocab_size\": 0}", "\"vocab_size\" must be positive")]
    public void Parse_BadConfig_ErrorNamesFileAndField(string text, string expected)
    {
        var e = Assert.Throws<ModelConfigException>(() => ModelConfigReader.Parse((JsonObject)JsonNode.Parse(text)!, "/models/x/config.json"));
        Assert.StartsWith("/models/x/config.json: ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Load_MalformedJson_ReportsFileAndLine()
    {
        var path = Path.Combine(Path.GetTempPath(), $"fta-config-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, "{\n  \"model_type\": \"llama\",\n  oops\n}");
        try
        {
            var e = Assert.Throws<ModelConfigException>(() => ModelConfigReader.Load(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("line 3", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
