using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Modeling.Config;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Methods.Tests;

public sealed class MemoryEstimateTests
{
    private static readonly TrainingShape Fp32 = new() { WeightDtype = ScalarType.Float32, ComputeDtype = ScalarType.Float32, SequenceLength = 16 };

    public static IEnumerable<object[]> Cases()
    {
        yield return ["lora", "{\"r\": 4}"];
        yield return ["lora", "{\"r\": 4, \"target_modules\": [\"q_proj\", \"v_proj\"], \"rank_pattern\": {\"v_proj\": 2}}"];
        yield return ["dora", "{\"r\": 3}"];
        yield return ["freeze", "{\"freeze_trainable_layers\": 1}"];
        yield return ["freeze", "{\"freeze_trainable_layers\": 2, \"freeze_trainable_modules\": \"self_attn\", \"freeze_extra_modules\": [\"embed_tokens\", \"norm\"]}"];
        yield return ["full", "{}"];
        yield return ["qlora", "{\"r\": 4}"];
        yield return ["qlora", "{\"r\": 4, \"double_quant\": false, \"blocksize\": 32, \"target_modules\": [\"v_proj\"]}"];
        yield return ["qlora", "{\"r\": 4, \"quant_type\": \"int8\"}"];
    }

    /// <summary>The estimate's parameter counts and weight bytes equal those of the model the method really builds.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Estimate_MatchesTheAdaptedModelsRealTensors(string method, string settingsJson)
    {
        foreach (var json in new[] { Models.Qwen3Json(), Models.LlamaJson() })
        {
            using var model = Models.Build(json);
            var m = GradientFlowTests.Method(method);
            var settings = m.ParseSettings(JsonNode.Parse(settingsJson)!.AsObject());
            var estimate = m.EstimateMemory(model.Config, Fp32, settings);
            var adapted = m.Adapt(model, Models.Template, settings);
            var trainable = adapted.TrainableParameters.Sum(p => p.Parameter.numel());
            var all = model.parameters().Sum(p => p.numel());
            // Quantized weights and their constants are buffers; measured from the tensors as they are.
            var bytes = model.parameters().Sum(p => p.numel() * ElementSize(p.dtype)) + model.buffers().Sum(b => b.numel() * ElementSize(b.dtype));
            Assert.Equal(trainable, estimate.TrainableParameters);
            if (method != "qlora")
                Assert.Equal(all, estimate.TotalParameters);
            Assert.Equal(bytes, estimate.WeightBytes + estimate.QuantizationConstantBytes);
            Assert.Equal(trainable * 4, estimate.GradientBytes);
            Assert.Equal(trainable * 4 * 2, estimate.OptimizerBytes);
        }
    }

    /// <summary>FACTS.md §10.1: LoRA r = 16 on all seven projections of the real models.</summary>
    [Theory]
    [InlineData("qwen3", 1024, 3072, 28, 16, 8, 128, 10.09)]
    [InlineData("qwen3", 4096, 12288, 36, 32, 8, 128, 43.65)]
    [InlineData("llama", 2048, 8192, 16, 32, 8, 64, 11.27)]
    [InlineData("llama", 4096, 14336, 32, 32, 8, 128, 41.94)]
    public void LoraTrainableCounts_MatchThePublishedFigures(string type, int hidden, int intermediate, int layers, int heads, int kv, int headDim, double millions)
    {
        var config = new ModelConfig
        {
            ModelType = type, VocabSize = 151936, HiddenSize = hidden, IntermediateSize = intermediate, NumHiddenLayers = layers,
            NumAttentionHeads = heads, NumKeyValueHeads = kv, HeadDim = headDim, UseQkNorm = type == "qwen3",
        };
        var m = new Lora.LoraMethod();
        var estimate = m.EstimateMemory(config, new TrainingShape(), m.ParseSettings(new JsonObject { ["r"] = 16 }));
        Assert.Equal(millions, Math.Round(estimate.TrainableParameters / 1e6, 2));
    }

    [Fact]
    public void Activations_GrowWithBatchAndLength_AndCheckpointingKeepsLess()
    {
        var config = Models.Config(Models.Qwen3Json(layers: 4));
        var m = new Lora.LoraMethod();
        var s = m.ParseSettings(null);
        var small = m.EstimateMemory(config, new TrainingShape { SequenceLength = 64 }, s);
        var batch = m.EstimateMemory(config, new TrainingShape { SequenceLength = 64, MicroBatchSize = 2 }, s);
        var longer = m.EstimateMemory(config, new TrainingShape { SequenceLength = 128 }, s);
        var checkpointed = m.EstimateMemory(config, new TrainingShape { SequenceLength = 64, GradientCheckpointing = true }, s);
        Assert.Equal(2 * small.ActivationBytes, batch.ActivationBytes); // every saved tensor has a batch dimension
        Assert.True(longer.ActivationBytes > 2 * small.ActivationBytes); // attention probabilities grow with s²
        Assert.True(checkpointed.CheckpointedActivationBytes < small.ActivationBytes);
        Assert.Equal(small.ActivationBytes, checkpointed.ActivationBytes);
        Assert.True(checkpointed.TotalBytes < small.TotalBytes);

        var freeze = new Freeze.FreezeMethod();
        var lastLayer = freeze.EstimateMemory(config, new TrainingShape { SequenceLength = 64 }, freeze.ParseSettings(new JsonObject { ["freeze_trainable_layers"] = 1 }));
        var full = new Full.FullMethod().EstimateMemory(config, new TrainingShape { SequenceLength = 64 }, new Full.FullMethod().ParseSettings(null));
        Assert.True(lastLayer.ActivationBytes < full.ActivationBytes / 2); // backward stops at the last layer
    }

    [Fact]
    public void OnTheCpu_LayersKeepNoAttentionProbabilities_AndTheLossHeadOneChunk()
    {
        var config = Models.Config(Models.Qwen3Json(layers: 4));
        var m = new Lora.LoraMethod();
        var s = m.ParseSettings(null);
        long h = config.HiddenSize;
        var cpu64 = m.EstimateMemory(config, Fp32 with { SequenceLength = 64, FusedCpuKernels = true }, s);
        var cpu128 = m.EstimateMemory(config, Fp32 with { SequenceLength = 128, FusedCpuKernels = true }, s);
        var eager128 = m.EstimateMemory(config, Fp32 with { SequenceLength = 128 }, s);
        var bf16Cpu64 = m.EstimateMemory(config, new TrainingShape { SequenceLength = 64, FusedCpuKernels = true }, s);
        var bf16Cpu128 = m.EstimateMemory(config, new TrainingShape { SequenceLength = 128, FusedCpuKernels = true }, s);
        // Linear in the length in float32 and bfloat16 alike (the fused attention core keeps two floats per row, not
        // S×S probabilities), below eager.
        Assert.Equal(2 * (cpu64.ActivationBytes - FinalNorm(64, 4)), cpu128.ActivationBytes - FinalNorm(128, 4));
        Assert.Equal(2 * (bf16Cpu64.ActivationBytes - FinalNorm(64, 2)), bf16Cpu128.ActivationBytes - FinalNorm(128, 2));
        Assert.True(cpu128.ActivationBytes < eager128.ActivationBytes);
        Assert.True(bf16Cpu128.ActivationBytes < m.EstimateMemory(config, new TrainingShape { SequenceLength = 128 }, s).ActivationBytes);
        // The fused cross-entropy writes the gradient over the chunk's logits: one bf16 chunk instead of four more
        // float32 copies, plus the gathered hidden states and their gradient.
        long tokens = 128, chunk = 128, v = config.VocabSize;
        Assert.Equal(chunk * v * 2 + 2 * tokens * h * 2, MemoryEstimator.LossHeadBytes(config, new TrainingShape { SequenceLength = 128, FusedCpuKernels = true }));
        Assert.Equal(chunk * v * (2 + 12) + 2 * tokens * h * 2, MemoryEstimator.LossHeadBytes(config, new TrainingShape { SequenceLength = 128 }));

        long FinalNorm(long sequence, long bytes) => 2 * sequence * h * bytes;
    }

    [Fact]
    public void LossHead_ChunksLongSequencesOverALargeVocabulary()
    {
        // Qwen3's vocabulary: 256 tokens a chunk, whatever the sequence length.
        var config = Models.Config(Models.Qwen3Json()) with { VocabSize = 151936 };
        var shortRun = MemoryEstimator.LossHeadBytes(config, new TrainingShape { SequenceLength = 512, FusedCpuKernels = true });
        var longRun = MemoryEstimator.LossHeadBytes(config, new TrainingShape { SequenceLength = 4096, FusedCpuKernels = true });
        Assert.Equal(256L * 151936 * 2 + 2 * 512L * config.HiddenSize * 2, shortRun);
        Assert.Equal(256L * 151936 * 2 + 2 * 4096L * config.HiddenSize * 2, longRun);
    }

    [Fact]
    public void BadShape_IsRejected_NamingTheField()
    {
        var m = new Lora.LoraMethod();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => m.EstimateMemory(Models.Config(Models.Qwen3Json()), new TrainingShape { SequenceLength = 0 }, m.ParseSettings(null)));
        Assert.Equal("SequenceLength", e.ParamName);
    }
}
