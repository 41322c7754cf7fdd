using FineTuneAgent.Core.Export.Gguf;
using FineTuneAgent.Core.Tests.Training;
using FineTuneAgent.Modeling.Checkpoints;
using FineTuneAgent.Modeling.Generation;
using FineTuneAgent.Modeling.Tokenization;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Tests.Export.Gguf;

/// <summary>
/// Our GGUF files loaded by the real llama.cpp: its log-probabilities, greedy tokens and
/// tokenization against our own forward, generator and tokenizer, and the metadata it reads back.
/// </summary>
[Collection(GeneratorCollection.Name)]
public sealed class GgufLlamaCppTests : IDisposable
{
    private static readonly int[] Prompt = [9707, 11, 1879, 0, 576, 374, 264, 1273, 315, 279, 1849];
    private static readonly string[] Texts =
    [
        "Hello, world! This is a test.",
        "  leading spaces and 12345 digits\nnew line\ttab",
        "中文分词测试，还有 émoji 🎉 and ünïcödé",
        "<|im_start|>user\nHi<|im_end|>",
    ];

    private readonly string _dir = Directory.CreateTempSubdirectory("fta-gguf-cpp-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static float[][] OurLogProbs(string modelDir, int[] ids, string? adapterDir = null)
    {
        using var scope = NewDisposeScope();
        using var model = Checkpoint.Load(modelDir, ScalarType.Float32);
        using var input = tensor(ids.Select(i => (long)i).ToArray(), [1, ids.Length]);
        using var _ = no_grad();
        var logProbs = model.forward(input).log_softmax(-1).contiguous().data<float>();
        var vocab = logProbs.Length / ids.Length;
        return Enumerable.Range(0, ids.Length).Select(p => logProbs.AsSpan(p * vocab, vocab).ToArray()).ToArray();
    }

    private static int[] OurGreedy(string modelDir, int[] prompt, int count)
    {
        using var model = Checkpoint.Load(modelDir, ScalarType.Float32);
        var options = new GenerationOptions { MaxNewTokens = count, DoSample = false };
        return Generator.Generate(model, [prompt], options)[0].NewTokens.ToArray();
    }

    private static (double MaxDiff, double Spread) Compare(float[][] ours, float[][] theirs)
    {
        double max = 0, spread = 0;
        for (var p = 0; p < ours.Length; p++)
        {
            Assert.Equal(ours[p].Length, theirs[p].Length);
            for (var v = 0; v < ours[p].Length; v++)
                max = Math.Max(max, Math.Abs(ours[p][v] - theirs[p][v]));
            spread = Math.Max(spread, ours[p].Max() - ours[p].Min());
        }
        return (max, spread);
    }

    private string Export(string modelDir, GgufQuant quant, string name)
    {
        var path = Path.Combine(_dir, name, "model.gguf");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        GgufExporter.ExportModel(modelDir, path, quant);
        return path;
    }

    [Fact]
    public void Qwen3_F32AndF16_LlamaCppMatchesOurForwardGreedyAndTokenizer()
    {
        var modelDir = TinyGgufModels.Qwen3(Directory.CreateDirectory(Path.Combine(_dir, "qwen3")).FullName);
        var ours = OurLogProbs(modelDir, Prompt);
        var greedy = OurGreedy(modelDir, Prompt, 8);
        var tokenizer = Tokenizer.FromDirectory(modelDir);

        var f32Path = Export(modelDir, GgufQuant.F32, "f32");
        var modelfile = File.ReadAllText(Path.Combine(Path.GetDirectoryName(f32Path)!, "Modelfile"));
        Assert.StartsWith("FROM ./model.gguf\nTEMPLATE \"\"\"", modelfile);
        Assert.Contains("PARAMETER stop \"<|im_end|>\"", modelfile);
        var f32 = LlamaCpp.Run(f32Path, logprobs: Prompt, generate: (Prompt, 8), tokenize: Texts);
        var (diff, spread) = Compare(ours, f32.LogProbs!);
        Assert.True(spread > 5, $"the model's log-probabilities spread only {spread}: the comparison would not discriminate");
        Assert.True(diff < 1e-3, $"F32: llama.cpp's log-probabilities differ from ours by up to {diff}");
        Assert.Equal(greedy, f32.Generated);
        for (var i = 0; i < Texts.Length; i++)
            Assert.Equal(tokenizer.Encode(Texts[i], addSpecialTokens: false), f32.Tokens![i]);
        Assert.Equal("qwen3", f32.Info["architecture"]!.GetValue<string>());
        Assert.Equal(40960, f32.Info["trainContextSize"]!.GetValue<int>());
        Assert.Equal(64, f32.Info["embeddingVectorSize"]!.GetValue<int>());
        Assert.Equal(151643, f32.Info["bos"]!.GetValue<int>());
        Assert.Equal(151645, f32.Info["eos"]!.GetValue<int>());
        Assert.False(f32.Info["shouldPrependBosToken"]!.GetValue<bool>());
        Assert.Equal(tokenizer.ChatTemplate, f32.Info["chatTemplate"]!.GetValue<string>());

        var f16 = LlamaCpp.Run(Export(modelDir, GgufQuant.F16, "f16"), logprobs: Prompt, generate: (Prompt, 8));
        var (diff16, _) = Compare(ours, f16.LogProbs!);
        Assert.True(diff16 < 5e-2, $"F16: llama.cpp's log-probabilities differ from ours by up to {diff16}");
        Assert.Equal(greedy, f16.Generated);
    }

    [Fact]
    public void Qwen3_Q8_0AndQ4_0_LoadAndGenerateCloseToUs()
    {
        var modelDir = TinyGgufModels.Qwen3(Directory.CreateDirectory(Path.Combine(_dir, "qwen3")).FullName);
        var ours = OurLogProbs(modelDir, Prompt);
        // Bounds relative to the spread of the log-probabilities: Q8_0 keeps about 1/254 of a block's
        // range per weight, Q4_0 1/16 (and llama.cpp also rounds activations to 8 bits for both).
        foreach (var (quant, fraction) in new[] { (GgufQuant.Q8_0, 0.03), (GgufQuant.Q4_0, 0.25) })
        {
            var path = Export(modelDir, quant, quant.ToString());
            var file = GgufFile.Read(path);
            Assert.Equal(quant == GgufQuant.Q8_0 ? GgmlType.Q8_0 : GgmlType.Q4_0, file.Tensor("blk.0.attn_q.weight").Type);
            Assert.Equal(GgmlType.F32, file.Tensor("blk.0.attn_q_norm.weight").Type);
            var r = LlamaCpp.Run(path, logprobs: Prompt, generate: (Prompt, 8));
            Assert.Equal(8, r.Generated!.Length);
            Assert.All(r.Generated, t => Assert.InRange(t, 0, 151935));
            var (diff, spread) = Compare(ours, r.LogProbs!);
            Assert.True(diff < fraction * spread, $"{quant}: log-probabilities differ from ours by up to {diff} (spread {spread})");
        }
    }

    [Fact]
    public void Llama3_F32_LlamaCppMatchesOurForwardGreedyAndTokenizer()
    {
        var modelDir = TinyGgufModels.Llama3(Directory.CreateDirectory(Path.Combine(_dir, "llama3")).FullName);
        int[] prompt = [128000, 9906, 11, 1917, 0, 1115, 374, 264, 1296, 315, 279, 1887];
        var ours = OurLogProbs(modelDir, prompt);
        var tokenizer = Tokenizer.FromDirectory(modelDir);
        var gguf = Export(modelDir, GgufQuant.F32, "llama3");
        Assert.Equal(GgmlType.F32, GgufFile.Read(gguf).Tensor("rope_freqs.weight").Type);
        var r = LlamaCpp.Run(gguf, logprobs: prompt, generate: (prompt, 8), tokenize: Texts[..3]);
        var (diff, spread) = Compare(ours, r.LogProbs!);
        Assert.True(spread > 5, $"spread {spread}");
        Assert.True(diff < 1e-3, $"llama.cpp's log-probabilities differ from ours by up to {diff}");
        Assert.Equal(OurGreedy(modelDir, prompt, 8), r.Generated);
        for (var i = 0; i < 3; i++)
            Assert.Equal(tokenizer.Encode(Texts[i], addSpecialTokens: false), r.Tokens![i]);
        Assert.Equal("llama", r.Info["architecture"]!.GetValue<string>());
        Assert.Equal(128000, r.Info["bos"]!.GetValue<int>());
    }

    [Fact]
    public void Llama2_SentencePieceVocabulary_LlamaCppTokenizesAsWeDoAndMatchesOurForward()
    {
        var modelDir = TinyGgufModels.Llama2(Directory.CreateDirectory(Path.Combine(_dir, "llama2")).FullName);
        var tokenizer = Tokenizer.FromDirectory(modelDir);
        string[] texts = ["Hello, world! This is a test.", "  leading spaces and 12345 digits\nnew line", "中文分词测试 émoji 🎉 ünïcödé"];
        var prompt = tokenizer.Encode(texts[0], addSpecialTokens: true);
        var gguf = Export(modelDir, GgufQuant.F32, "llama2");
        var r = LlamaCpp.Run(gguf, logprobs: prompt, tokenize: texts);
        for (var i = 0; i < texts.Length; i++)
            Assert.Equal(tokenizer.Encode(texts[i], addSpecialTokens: false), r.Tokens![i]);
        var (diff, _) = Compare(OurLogProbs(modelDir, prompt), r.LogProbs!);
        Assert.True(diff < 1e-3, $"llama.cpp's log-probabilities differ from ours by up to {diff}");
        Assert.True(r.Info["shouldPrependBosToken"]!.GetValue<bool>());
    }
}
