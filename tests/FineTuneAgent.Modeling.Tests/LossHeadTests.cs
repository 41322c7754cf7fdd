using FineTuneAgent.Modeling.Layers;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Tests;

/// <summary>
/// The chunked loss head against two references: the loss computed here in double precision from the raw
/// numbers (log-sum-exp over every vocabulary row), and autograd through whole logits with
/// <see cref="CausalLM.CausalLmLoss"/> for the gradients of the hidden states and the output weight.
/// </summary>
[Collection(GlobalGeneratorCollection.Name)]
public class LossHeadTests
{
    private const long B = 2, S = 7, H = 5, V = 11;

    private static (Tensor Hidden, Tensor Weight, Tensor Labels) Inputs(bool someIgnored = true)
    {
        manual_seed(21);
        var hidden = randn([B, S, H]);
        var weight = randn([V, H]);
        var labels = randint(0, V, [B, S]);
        if (someIgnored)
        {
            // A prompt at the start of row 0, padding at the end of row 1.
            using (var prompt = labels[0].narrow(0, 0, 3))
                prompt.fill_(-100);
            using (var pad = labels[1].narrow(0, 5, 2))
                pad.fill_(-100);
        }
        return (hidden, weight, labels);
    }

    /// <summary>Σ over counted tokens of −log softmax(h_t · Wᵀ)[label_{t+1}], and the count, in doubles.</summary>
    private static (double Sum, long Count) ReferenceSum(Tensor hidden, Tensor weight, Tensor labels)
    {
        var h = hidden.data<float>();
        var w = weight.data<float>();
        var l = labels.data<long>();
        double sum = 0;
        long count = 0;
        for (long b = 0; b < B; b++)
            for (long t = 0; t + 1 < S; t++)
            {
                var label = l[b * S + t + 1];
                if (label == -100)
                    continue;
                var logits = new double[V];
                for (long v = 0; v < V; v++)
                    for (long k = 0; k < H; k++)
                        logits[v] += (double)h[(b * S + t) * H + k] * w[v * H + k];
                var max = logits.Max();
                var logSumExp = max + Math.Log(logits.Sum(x => Math.Exp(x - max)));
                sum += logSumExp - logits[label];
                count++;
            }
        return (sum, count);
    }

    [Theory]
    [InlineData(1)]     // one token per chunk
    [InlineData(4)]     // chunks that do not divide the counted tokens
    [InlineData(1000)]  // everything in one chunk
    public void Loss_EqualsTheDoublePrecisionReference_MeanAndPerItem(int tokensPerChunk)
    {
        var (hidden, weight, labels) = Inputs();
        var (sum, count) = ReferenceSum(hidden, weight, labels);
        Assert.Equal(8, count);   // row 0: t = 2..5 (labels 1, 2 are prompt); row 1: t = 0..3 (labels 5, 6 are padding)
        using var mean = LossHead.Loss(hidden, weight, labels, chunkElements: tokensPerChunk * V);
        Assert.Equal(sum / count, mean.ToDouble(), 5);
        using var perItem = LossHead.Loss(hidden, weight, labels, numItemsInBatch: 37, chunkElements: tokensPerChunk * V);
        Assert.Equal(sum / 37, perItem.ToDouble(), 5);
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(4, true)]
    [InlineData(1000, true)]
    public void ForwardBackward_GivesWholeLogitsAutogradsLossAndGradients(int tokensPerChunk, bool perItem)
    {
        long? items = perItem ? 23 : null;
        var (h0, w0, labels) = Inputs();

        // Reference: whole logits, HF's loss, one backward.
        using var hRef = h0.clone().requires_grad_();
        using var wRef = w0.clone().requires_grad_();
        using var logits = nn.functional.linear(hRef, wRef);
        using var reference = CausalLM.CausalLmLoss(logits, labels, items);
        reference.backward();

        // Chunked: the hidden states come through an operation, as they do from the model, so the gradient must
        // travel back through the graph to the leaf.
        using var hLeaf = h0.clone().requires_grad_();
        using var w = w0.clone().requires_grad_();
        using var hidden = hLeaf.mul(1.0);
        using var loss = LossHead.ForwardBackward(hidden, w, labels, items, chunkElements: tokensPerChunk * V);

        Assert.False(loss.requires_grad);
        Assert.Equal(reference.ToDouble(), loss.ToDouble(), 5);
        AssertClose(hRef.grad!, hLeaf.grad!, "hidden");
        AssertClose(wRef.grad!, w.grad!, "weight");
        // The ignored positions get no gradient: row 0's first two positions predict prompt labels.
        using var g = hLeaf.grad!;
        var grads = g.data<float>();
        Assert.All(Enumerable.Range(0, (int)(2 * H)), i => Assert.Equal(0f, grads[i]));
        // And the last position of each row predicts nothing.
        Assert.All(Enumerable.Range(0, (int)H), k => Assert.Equal(0f, grads[(int)((S - 1) * H) + k]));
    }

    [Fact]
    public void ForwardBackward_FrozenWeight_StillGivesTheHiddenGradient_AndLeavesTheWeightAlone()
    {
        var (h0, w0, labels) = Inputs();
        using var hRef = h0.clone().requires_grad_();
        using var logits = nn.functional.linear(hRef, w0);
        using var reference = CausalLM.CausalLmLoss(logits, labels);
        reference.backward();

        using var hLeaf = h0.clone().requires_grad_();
        using var loss = LossHead.ForwardBackward(hLeaf.mul(1.0), w0, labels, chunkElements: 2 * V);
        Assert.Equal(reference.ToDouble(), loss.ToDouble(), 5);
        AssertClose(hRef.grad!, hLeaf.grad!, "hidden");
        Assert.Null(w0.grad);
    }

    [Fact]
    public void NoCountedToken_MeanIsNaN_PerItemIsZero_AndNothingIsBackpropagated()
    {
        var (h0, w0, labels) = Inputs();
        labels.fill_(-100);
        using var hLeaf = h0.clone().requires_grad_();
        using var mean = LossHead.ForwardBackward(hLeaf.mul(1.0), w0, labels);
        Assert.True(double.IsNaN(mean.ToDouble()));
        using var perItem = LossHead.Loss(h0, w0, labels, numItemsInBatch: 4);
        Assert.Equal(0.0, perItem.ToDouble());
        Assert.Null(hLeaf.grad);
    }

    [Fact]
    public void Bf16Autocast_ProjectsInBf16_AndMatchesWholeLogitsUnderTheSameAutocast()
    {
        var (h0, w0, labels) = Inputs();
        using var hRef = h0.clone().requires_grad_();
        Tensor reference;
        using (autocast(DeviceType.CPU, ScalarType.BFloat16))
        {
            using var logits = nn.functional.linear(hRef, w0);
            Assert.Equal(ScalarType.BFloat16, logits.dtype);
            reference = CausalLM.CausalLmLoss(logits, labels);
        }
        reference.backward();

        using var hLeaf = h0.clone().requires_grad_();
        using var loss = LossHead.ForwardBackward(hLeaf.mul(1.0), w0, labels, autocast: () => autocast(DeviceType.CPU, ScalarType.BFloat16), chunkElements: 3 * V);
        // bf16 logits of the same products: equal up to float32 summation order.
        Assert.Equal(reference.ToDouble(), loss.ToDouble(), 5);
        AssertClose(hRef.grad!, hLeaf.grad!, "hidden", tolerance: 1e-3);
        // And bf16 really was used: the fp32 loss differs.
        using var fp32 = LossHead.Loss(h0, w0, labels);
        Assert.NotEqual(fp32.ToDouble(), loss.ToDouble(), 6);
        reference.Dispose();
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void ChunksOfOddSizes_ArePaddedToWholeBlocks_WithoutChangingLossOrGradients(ScalarType dtype)
    {
        // 2 × 49 = 98 counted tokens: one chunk, padded to 128 rows; and chunks of 70 + 28 (70 padded to 128).
        manual_seed(31);
        var h0 = randn([2, 50, 5]).to_type(dtype);
        var w0 = randn([V, 5]).to_type(dtype);
        var labels = randint(0, V, [2, 50]);
        using var hRef = h0.clone().requires_grad_();
        using var logits = nn.functional.linear(hRef, w0);
        using var reference = CausalLM.CausalLmLoss(logits, labels, 98);
        reference.backward();
        foreach (var chunk in new long[] { LossHead.DefaultChunkElements, 70 * V })
        {
            using var hLeaf = h0.clone().requires_grad_();
            using var loss = LossHead.ForwardBackward(hLeaf.mul(1.0), w0, labels, 98, chunkElements: chunk);
            Assert.Equal(reference.ToDouble(), loss.ToDouble(), dtype == ScalarType.Float32 ? 1e-5 : 1e-3);
            AssertClose(hRef.grad!.to_type(ScalarType.Float32), hLeaf.grad!.to_type(ScalarType.Float32), "hidden", dtype == ScalarType.Float32 ? 1e-5 : 2e-2);
            using var noGrad = LossHead.Loss(h0, w0, labels, 98, chunkElements: chunk);
            Assert.Equal(reference.ToDouble(), noGrad.ToDouble(), dtype == ScalarType.Float32 ? 1e-5 : 1e-3);
        }
    }

    /// <summary>
    /// A trained output matrix (Full, a tied embedding) gets the gradient autograd gives over whole logits under the same
    /// setting: fused and eager scoring, float32, bfloat16 weights and a float32 weight under bfloat16 autocast, and a
    /// second micro-batch adds to the gradient the first left (as gradient accumulation does).
    /// </summary>
    [Theory]
    [InlineData(ScalarType.Float32, false, true)]
    [InlineData(ScalarType.Float32, false, false)]
    [InlineData(ScalarType.BFloat16, false, true)]
    [InlineData(ScalarType.Float32, true, true)]
    [InlineData(ScalarType.Float32, true, false)]
    public void TrainedOutputWeight_GradientAccumulatesAsAutogradsOverWholeLogits(ScalarType dtype, bool bf16Autocast, bool fused)
    {
        var (h0, w0, labels) = Inputs();
        h0 = h0.to_type(dtype);
        w0 = w0.to_type(dtype);
        IDisposable? Autocast() => bf16Autocast ? autocast(DeviceType.CPU, ScalarType.BFloat16) : null;
        var tolerance = dtype == ScalarType.Float32 && !bf16Autocast ? 1e-5 : 2e-2;

        // Reference: whole logits twice (two micro-batches of the same tokens), autograd accumulating both.
        using var hRef = h0.clone().requires_grad_();
        using var wRef = w0.clone().requires_grad_();
        for (var micro = 0; micro < 2; micro++)
        {
            Tensor reference;
            using (Autocast())
            using (var logits = nn.functional.linear(hRef, wRef))
                reference = CausalLM.CausalLmLoss(logits, labels, 23);
            reference.backward();
            reference.Dispose();
        }

        using var hLeaf = h0.clone().requires_grad_();
        using var w = w0.clone().requires_grad_();
        using (fused ? null : FusedKernels.Disable())
            for (var micro = 0; micro < 2; micro++)
                LossHead.ForwardBackward(hLeaf.mul(1.0), w, labels, 23, autocast: bf16Autocast ? Autocast : null, chunkElements: 4 * V).Dispose();

        Assert.Equal(dtype, w.grad!.dtype);
        AssertClose(wRef.grad!.to_type(ScalarType.Float32), w.grad!.to_type(ScalarType.Float32), "weight", tolerance);
        AssertClose(hRef.grad!.to_type(ScalarType.Float32), hLeaf.grad!.to_type(ScalarType.Float32), "hidden", tolerance);
    }

    [Fact]
    public void WrongShapes_AreNamed()
    {
        var (h0, w0, labels) = Inputs();
        var e = Assert.Throws<ArgumentException>(() => LossHead.Loss(h0.reshape(B * S, H), w0, labels));
        Assert.Contains("(batch, sequence, hidden)", e.Message);
        e = Assert.Throws<ArgumentException>(() => LossHead.Loss(h0, w0, labels.narrow(1, 0, 3)));
        Assert.Contains("labels have shape [2, 3], expected [2, 7]", e.Message);
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what, double tolerance = 1e-5)
    {
        var e = expected.data<float>();
        var a = actual.data<float>();
        Assert.Equal(e.Length, a.Length);
        var scale = Math.Max(1e-3, e.Max(v => Math.Abs(v)));
        for (var i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= tolerance * scale, $"{what}[{i}]: whole logits {e[i]}, chunked {a[i]}");
    }
}
