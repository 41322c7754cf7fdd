using FineTuneAgent.Modeling.Generation;
using FineTuneAgent.Modeling.Layers;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Tests;

public class CausalLMTests
{
    private static CausalLM Tiny(bool qwen, long seed = 7)
    {
        manual_seed(seed);
        return new CausalLM(TinyModels.Parse(qwen ? TinyModels.Qwen3Json() : TinyModels.LlamaJson()));
    }

    private static float[] LogitsOf(CausalLM model, long[] ids)
    {
        using var input = tensor(ids, [1, ids.Length]);
        using var logits = model.forward(input);
        return logits.data<float>();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Forward_BatchWithLeftAndRightPadding_EqualsUnpaddedForwardPerSequence(bool qwen)
    {
        using var model = Tiny(qwen);
        model.eval();
        using var _ = no_grad();
        long[] a = [5, 17, 42, 8, 9, 30], b = [11, 3, 60];
        var vocab = model.Config.VocabSize;
        var alone = LogitsOf(model, b);
        // Left padding: [pad pad pad b], mask 0 0 0 1 1 1.
        using var left = tensor(new long[] { 5, 17, 42, 8, 9, 30, 0, 0, 0, 11, 3, 60 }, [2, 6]);
        using var leftMask = tensor(new long[] { 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1 }, [2, 6]);
        using var leftLogits = model.forward(left, leftMask);
        var l = leftLogits.data<float>();
        for (var t = 0; t < 3; t++)
            for (var v = 0; v < vocab; v++)
                Assert.True(Math.Abs(alone[t * vocab + v] - l[(6 + 3 + t) * vocab + v]) < 1e-4);
        // Right padding: [b pad pad pad].
        using var right = tensor(new long[] { 5, 17, 42, 8, 9, 30, 11, 3, 60, 0, 0, 0 }, [2, 6]);
        using var rightMask = tensor(new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0 }, [2, 6]);
        using var rightLogits = model.forward(right, rightMask);
        var r = rightLogits.data<float>();
        for (var t = 0; t < 3; t++)
            for (var v = 0; v < vocab; v++)
                Assert.True(Math.Abs(alone[t * vocab + v] - r[(6 + t) * vocab + v]) < 1e-4);
        var aloneA = LogitsOf(model, a);
        Assert.Equal(aloneA, l.AsSpan(0, 6 * vocab).ToArray(), (x, y) => Math.Abs(x - y) < 1e-4);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Forward_WithKvCache_StepByStep_EqualsFullForward(bool qwen)
    {
        using var model = Tiny(qwen);
        model.eval();
        using var _ = no_grad();
        long[] ids = [4, 8, 15, 16, 23, 42, 7];
        var vocab = model.Config.VocabSize;
        var full = LogitsOf(model, ids);
        using var cache = new KvCache(model.Config.NumHiddenLayers);
        using (var prefix = tensor(ids[..4], [1, 4]))
        using (var first = model.forward(prefix, cache: cache))
            Assert.Equal(full.AsSpan(0, 4 * vocab).ToArray(), first.data<float>(), (x, y) => Math.Abs(x - y) < 1e-4);
        for (var t = 4; t < ids.Length; t++)
        {
            using var one = tensor(new[] { ids[t] }, [1, 1]);
            using var step = model.forward(one, cache: cache);
            Assert.Equal(full.AsSpan(t * vocab, vocab).ToArray(), step.data<float>(), (x, y) => Math.Abs(x - y) < 1e-4);
        }
        Assert.Equal(ids.Length, cache.Length);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Generate_CachedGreedy_EqualsRecomputingTheWholeSequence(bool qwen)
    {
        using var model = Tiny(qwen, seed: 11);
        IReadOnlyList<IReadOnlyList<int>> prompts = [[5, 6, 7, 8], [9, 10], [30]];
        var options = new GenerationOptions { MaxNewTokens = 12, EosTokenIds = [] };
        var cached = Generator.Generate(model, prompts, options);
        var recomputed = Generator.Generate(model, prompts, options with { UseCache = false });
        Assert.Equal(cached.Select(r => r.NewTokens.ToArray()), recomputed.Select(r => r.NewTokens.ToArray()));
        Assert.All(cached, r => Assert.Equal(12, r.NewTokens.Count));
        // Batching does not change a row's continuation.
        var single = Generator.Generate(model, [prompts[1]], options);
        Assert.Equal(cached[1].NewTokens, single[0].NewTokens);
    }

    [Fact]
    public void Generate_StopsOnEos_AndOnStopString()
    {
        using var model = Tiny(true, seed: 3);
        var free = Generator.Generate(model, [[1, 2, 3]], new GenerationOptions { MaxNewTokens = 8 })[0];
        var firstToken = free.NewTokens[0];
        var eos = Generator.Generate(model, [[1, 2, 3]], new GenerationOptions { MaxNewTokens = 8, EosTokenIds = [free.NewTokens[2]] })[0];
        Assert.Equal(FinishReason.EndOfSequence, eos.FinishReason);
        Assert.Equal(free.NewTokens.Take(free.NewTokens.ToList().IndexOf(free.NewTokens[2]) + 1), eos.NewTokens);
        var stop = Generator.Generate(model, [[1, 2, 3]], new GenerationOptions { MaxNewTokens = 8, StopStrings = [$"<{free.NewTokens[1]}>"] },
            ids => string.Concat(ids.Select(i => $"<{i}>")))[0];
        Assert.Equal(FinishReason.StopString, stop.FinishReason);
        Assert.Equal(firstToken, stop.NewTokens[0]);
        Assert.True(stop.NewTokens.Count <= 2);
    }

    [Fact]
    public void Generate_SamplingWithSeed_IsReproducible_AndDiffersAcrossSeeds()
    {
        using var model = Tiny(false, seed: 5);
        var o = new GenerationOptions { MaxNewTokens = 16, DoSample = true, Temperature = 1.5, TopK = 50, TopP = 0.95, Seed = 1 };
        var a = Generator.Generate(model, [[1, 2]], o)[0].NewTokens;
        var b = Generator.Generate(model, [[1, 2]], o)[0].NewTokens;
        var c = Generator.Generate(model, [[1, 2]], o with { Seed = 2 })[0].NewTokens;
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void CausalLmLoss_ShiftsLabelsAndIgnoresMinus100()
    {
        using var logits = randn(1, 4, 5);
        using var labels = tensor(new long[] { 9, 2, -100, 4 }, [1, 4]);
        using var loss = CausalLM.CausalLmLoss(logits, labels);
        var l = logits.data<float>();
        double Nll(int t, int k)
        {
            var row = l.Skip(t * 5).Take(5).Select(x => (double)x).ToArray();
            return -(row[k] - Math.Log(row.Sum(Math.Exp)));
        }
        // position 0 predicts label 1 (=2), position 2 predicts label 3 (=4); position 1's target is ignored.
        Assert.Equal((Nll(0, 2) + Nll(2, 4)) / 2, loss.item<double>(), 5);
        using var summed = CausalLM.CausalLmLoss(logits, labels, numItemsInBatch: 4);
        Assert.Equal((Nll(0, 2) + Nll(2, 4)) / 4, summed.item<double>(), 5);
    }

    [Fact]
    public void StateDict_UsesHfNames_AndTiedModelHasNoLmHead()
    {
        using var tied = new CausalLM(TinyModels.Parse(TinyModels.Qwen3Json(tied: true)));
        var names = tied.state_dict().Keys.ToList();
        Assert.Contains("model.embed_tokens.weight", names);
        Assert.Contains("model.layers.1.self_attn.q_norm.weight", names);
        Assert.Contains("model.layers.0.mlp.down_proj.weight", names);
        Assert.DoesNotContain("lm_head.weight", names);
        Assert.Equal(tied.Config.ParameterCount(), tied.parameters().Sum(p => p.numel()));
        using var untied = new CausalLM(TinyModels.Parse(TinyModels.LlamaJson(tied: false)));
        Assert.Contains("lm_head.weight", untied.state_dict().Keys);
        Assert.DoesNotContain(untied.state_dict().Keys, k => k.Contains("q_norm"));
        Assert.Equal(untied.Config.ParameterCount(), untied.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void Training_FewSteps_LowersLossOnAFixedBatch()
    {
        using var model = Tiny(true, seed: 1);
        using var opt = optim.AdamW(model.parameters(), lr: 1e-2);
        using var ids = tensor(new long[] { 1, 5, 9, 13, 17, 21, 25, 29 }, [1, 8]);
        double first = 0, last = 0;
        for (var i = 0; i < 20; i++)
        {
            using var scope = NewDisposeScope();
            opt.zero_grad();
            var loss = CausalLM.CausalLmLoss(model.forward(ids), ids);
            loss.backward();
            opt.step();
            if (i == 0) first = loss.item<double>();
            last = loss.item<double>();
        }
        Assert.True(last < first * 0.5, $"loss {first} -> {last}");
    }
}
