using FineTuneAgent.Modeling.Layers;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Tests;

/// <summary>These tests seed and read the process-wide generator, so nothing else may draw from it meanwhile.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalGeneratorCollection
{
    public const string Name = "global generator";
}

/// <summary>
/// Gradient checkpointing against the reference it must reproduce: a plain forward with autograd
/// recording everything and one loss.backward(), on the same model, batch and generator seed, with
/// attention dropout on so the recomputation has to replay the same masks.
/// </summary>
[Collection(GlobalGeneratorCollection.Name)]
public class GradientCheckpointingTests
{
    private static CausalLM Tiny(bool qwen, bool tied)
    {
        var json = qwen ? TinyModels.Qwen3Json(tied) : TinyModels.LlamaJson(tied);
        json["attention_dropout"] = 0.3;
        json["num_hidden_layers"] = 3;
        manual_seed(5);
        var model = new CausalLM(TinyModels.Parse(json));
        model.train();
        return model;
    }

    private sealed record Batch(Tensor Ids, Tensor Mask, Tensor Labels, Tensor? Positions);

    private static Batch MakeBatch(long vocab, bool packed)
    {
        manual_seed(99);
        var ids = randint(3, vocab, [2, 9]);
        var mask = tensor(new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0 }, [2, 9]);
        var labels = ids.clone();
        labels.masked_fill_(mask.eq(0), -100);
        using (var prompt = labels.narrow(1, 0, 2))
            prompt.fill_(-100);
        var positions = packed ? tensor(new long[] { 0, 1, 2, 3, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6, 7, 8 }, [2, 9]) : null;
        return new Batch(ids, mask, labels, positions);
    }

    private sealed record Outcome(double Loss, Dictionary<string, float[]?> Gradients, byte[] GeneratorAfter);

    private static Outcome Run(CausalLM model, Batch batch, bool checkpointed, long seed, bool chunkedHead = false)
    {
        foreach (var p in model.parameters())
            p.grad = null;
        manual_seed(seed);
        double loss;
        if (checkpointed && chunkedHead)
        {
            // Three tokens per chunk, so the head really runs in several chunks.
            using var l = GradientCheckpointing.ForwardBackward(model, batch.Ids, batch.Mask, batch.Positions, batch.Labels, numItemsInBatch: null,
                chunkElements: 3 * model.Config.VocabSize);
            Assert.False(l.requires_grad);
            loss = l.ToDouble();
        }
        else if (checkpointed)
        {
            using var l = GradientCheckpointing.ForwardBackward(model, batch.Ids, batch.Mask, batch.Positions,
                logits => CausalLM.CausalLmLoss(logits, batch.Labels));
            Assert.False(l.requires_grad);
            loss = l.ToDouble();
        }
        else
        {
            using var logits = model.forward(batch.Ids, batch.Mask, positionIds: batch.Positions);
            using var l = CausalLM.CausalLmLoss(logits, batch.Labels);
            l.backward();
            loss = l.ToDouble();
        }
        var grads = new Dictionary<string, float[]?>();
        foreach (var (name, p) in model.named_parameters())
        {
            using var g = p.grad;
            grads[name] = g?.data<float>();
        }
        using var state = get_rng_state();
        return new Outcome(loss, grads, state.data<byte>());
    }

    private static void AssertSameGradients(Outcome expected, Outcome actual)
    {
        // A float32 loss summed in another order (the chunked head) may differ in its last bit.
        Assert.True(Math.Abs(expected.Loss - actual.Loss) <= 1e-6 * Math.Max(1, Math.Abs(expected.Loss)), $"loss: plain {expected.Loss}, other {actual.Loss}");
        Assert.Equal(expected.Gradients.Keys, actual.Gradients.Keys);
        foreach (var (name, e) in expected.Gradients)
        {
            var a = actual.Gradients[name];
            Assert.True((e is null) == (a is null), $"{name}: gradient present in one run only");
            if (e is null)
                continue;
            var scale = Math.Max(1e-3, e.Max(v => Math.Abs(v)));
            for (var i = 0; i < e.Length; i++)
                Assert.True(Math.Abs(e[i] - a![i]) <= 1e-5 * scale, $"{name}[{i}]: plain {e[i]}, checkpointed {a[i]}");
        }
    }

    [Theory]
    [InlineData(true, true, false)]
    [InlineData(true, false, true)]
    [InlineData(false, false, false)]
    [InlineData(false, true, true)]
    public void EveryGradient_EqualsPlainBackward_WithDropoutMasksReplayed(bool qwen, bool tied, bool packed)
    {
        using var model = Tiny(qwen, tied);
        var batch = MakeBatch(model.Config.VocabSize, packed);
        var plain = Run(model, batch, checkpointed: false, seed: 11);
        var checkpointed = Run(model, batch, checkpointed: true, seed: 11);
        AssertSameGradients(plain, checkpointed);
        // The generator ends where the plain forward left it: later draws are the same with or without checkpointing.
        Assert.Equal(plain.GeneratorAfter, checkpointed.GeneratorAfter);
        Assert.All(plain.Gradients.Values, g => Assert.NotNull(g));
        // Dropout really is drawing: another seed gives another loss, so the replay above mattered.
        var otherSeed = Run(model, batch, checkpointed: true, seed: 12);
        Assert.NotEqual(plain.Loss, otherSeed.Loss, 4);
        // The chunked loss head under checkpointing: the same gradients as the plain backward over whole logits.
        var chunked = Run(model, batch, checkpointed: true, seed: 11, chunkedHead: true);
        AssertSameGradients(plain, chunked);
        Assert.Equal(plain.GeneratorAfter, chunked.GeneratorAfter);
    }

    [Fact]
    public void FrozenEmbeddingAndLowerLayer_GetNoGradient_AndTheRestMatchPlainBackward()
    {
        using var model = Tiny(qwen: true, tied: false);
        model.model.embed_tokens.weight.requires_grad_(false);
        foreach (var p in model.model.layers[0].parameters())
            p.requires_grad_(false);
        var batch = MakeBatch(model.Config.VocabSize, packed: false);
        var plain = Run(model, batch, checkpointed: false, seed: 3);
        var checkpointed = Run(model, batch, checkpointed: true, seed: 3);
        AssertSameGradients(plain, checkpointed);
        Assert.Null(checkpointed.Gradients["model.embed_tokens.weight"]);
        Assert.Null(checkpointed.Gradients["model.layers.0.self_attn.q_proj.weight"]);
        Assert.NotNull(checkpointed.Gradients["model.layers.1.self_attn.q_proj.weight"]);
    }
}
