using System.Text.Json.Nodes;

namespace FineTuneAgent.Console.Tests;

/// <summary>
/// `fta bench train` on the tiny model for two steps, both sides: the command works, both sides train the same
/// configuration, and the model-FLOPs count is the textbook one. It asserts no speed: timings belong to the
/// benchmark run itself.
/// </summary>
public sealed class TrainBenchCommandTests
{
    [Theory]
    [InlineData("lora", "fp32")]
    [InlineData("full", "bf16")]
    public void BenchTrain_TinyModel_BothSidesTrainTheSameConfiguration(string method, string dtype)
    {
        var (code, stdout, stderr) = Fta.Run("bench", "train", "--params", "tiny", "--method", method, "--dtype", dtype, "--seq-len", "16",
            "--steps", "2", "--warmup", "1", "--threads", "1", "--pytorch", "--json");
        Assert.True(code == 0, stderr);
        var result = JsonNode.Parse(stdout)!;
        var ours = result["ours"]!;
        var torch = result["pytorch"]!;
        // The same model and method on both sides: parameter and trainable counts agree.
        Assert.Equal((long)ours["parameters"]!, (long)torch["parameters"]!);
        Assert.Equal((long)ours["trainable"]!, (long)torch["trainable"]!);
        // Both start from random weights with the same scale, so both first losses sit near ln(vocabulary).
        var lnVocab = Math.Log((int)ours["vocab_size"]!);
        foreach (var side in new[] { ours, torch })
        {
            var first = (double)side["losses"]![0]!;
            Assert.InRange(first, 0.9 * lnVocab, 1.1 * lnVocab);
            Assert.Equal(3, side["losses"]!.AsArray().Count);
            Assert.True((double)side["tokens_per_s"]! > 0);
            Assert.True((double)side["peak_memory_gb"]! > 0);
            Assert.InRange((double)side["mfu"]!, 1e-6, 1.0);
        }
        Assert.Equal((double)ours["tokens_per_s"]! / (double)torch["tokens_per_s"]!, (double)result["tokens_per_s_ratio"]!, 1e-9);
        Assert.Equal((double)ours["peak_memory_gb"]! / (double)torch["peak_memory_gb"]!, (double)result["peak_memory_ratio"]!, 1e-9);

        // Model FLOPs per token, PaLM's way: 6·N for Full (N: matmul weights, the output projection included)
        // plus 12·L·S·heads·head_dim for attention; LoRA skips the frozen weights' gradients (4·N) and adds its
        // adapters' forward, input-gradient and weight-gradient products (6·A).
        double h = (int)ours["hidden_size"]!, inter = (int)ours["intermediate_size"]!, heads = (int)ours["attention_heads"]!,
            kv = (int)ours["key_value_heads"]!, hd = (int)ours["head_dim"]!, v = (int)ours["vocab_size"]!, layers = (int)ours["layers"]!;
        var matmulWeights = layers * (2 * h * heads * hd + 2 * h * kv * hd + 3 * h * inter) + v * h;
        var attention = 12 * layers * 16 * heads * hd;
        var expected = method == "full" ? 6 * matmulWeights + attention : 4 * matmulWeights + 6 * (long)ours["trainable"]! + attention;
        Assert.Equal(expected, (double)ours["model_flops_per_token"]!, expected * 1e-12);
    }

    [Theory]
    [InlineData(new[] { "--method", "qlora-3" }, "--method must be one of lora, qlora-4")]
    [InlineData(new[] { "--params", "7B" }, "--params '7B' is not a qwen3 size here; known: 0.6B, 1.7B, tiny")]
    [InlineData(new[] { "--arch", "mistral" }, "--arch must be qwen3 or llama")]
    [InlineData(new[] { "--dtype", "fp16" }, "--dtype must be fp32 or bf16")]
    [InlineData(new[] { "--method", "dora", "--pytorch" }, "--pytorch has a plain-PyTorch side for lora, qlora-4 and full, not dora")]
    public void BenchTrain_BadArguments_AreNamed(string[] arguments, string message)
    {
        var (code, _, stderr) = Fta.Run(["bench", "train", .. arguments]);
        Assert.Equal(2, code);
        Assert.Contains(message, stderr);
    }
}
