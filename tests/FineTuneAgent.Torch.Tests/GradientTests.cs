namespace FineTuneAgent.Torch.Tests;

/// <summary>Gradients of the ops training relies on, against central finite differences.</summary>
public class GradientTests
{
    private static Tensor R(long seed, params long[] shape) => GradientCheck.Random(seed, shape);

    [Fact]
    public void Matmul_Gradients_MatchFiniteDifferences()
    {
        using var a = R(1, 3, 4);
        using var b = R(2, 4, 2);
        using var w = R(3, 3, 2);
        GradientCheck.Assert(x => (x[0].matmul(x[1]) * w).sum(), [a, b]);
    }

    [Fact]
    public void BatchedMatmul_Gradients_MatchFiniteDifferences()
    {
        using var a = R(4, 2, 3, 4);
        using var b = R(5, 2, 4, 2);
        using var w = R(6, 2, 3, 2);
        GradientCheck.Assert(x => (x[0].bmm(x[1]) * w).sum(), [a, b]);
    }

    [Fact]
    public void Linear_Gradients_MatchFiniteDifferences()
    {
        using var input = R(7, 2, 3, 4);
        using var weight = R(8, 5, 4);
        using var bias = R(9, 5);
        using var w = R(10, 2, 3, 5);
        GradientCheck.Assert(x => (nn.functional.linear(x[0], x[1], x[2]) * w).sum(), [input, weight, bias]);
    }

    [Fact]
    public void Softmax_Gradients_MatchFiniteDifferences()
    {
        using var input = R(11, 3, 5);
        using var w = R(12, 3, 5);
        GradientCheck.Assert(x => (x[0].softmax(-1) * w).sum(), [input]);
    }

    [Fact]
    public void LogSoftmax_Gradients_MatchFiniteDifferences()
    {
        using var input = R(13, 3, 5);
        using var w = R(14, 3, 5);
        GradientCheck.Assert(x => (x[0].log_softmax(1) * w).sum(), [input]);
    }

    [Fact]
    public void CrossEntropy_WithIgnoreIndex_GradientsMatchFiniteDifferences()
    {
        using var logits = R(15, 5, 7);
        using var target = tensor(new long[] { 3, -100, 0, 6, -100 });
        GradientCheck.Assert(x => nn.functional.cross_entropy(x[0], target), [logits]);
        // The ignored rows get exactly zero gradient.
        using var leaf = logits.clone().requires_grad_();
        using var loss = nn.functional.cross_entropy(leaf, target);
        loss.backward();
        using var g = leaf.grad!;
        var gv = g.data<double>();
        Assert.All(gv.Skip(7).Take(7).Concat(gv.Skip(28)), v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void CrossEntropy_WithLabelSmoothingAndSum_GradientsMatchFiniteDifferences()
    {
        using var logits = R(16, 4, 6);
        using var target = tensor(new long[] { 1, 5, -100, 2 });
        GradientCheck.Assert(x => nn.functional.cross_entropy(x[0], target, reduction: nn.Reduction.Sum, label_smoothing: 0.1), [logits]);
    }

    [Fact]
    public void Silu_Gradients_MatchFiniteDifferences()
    {
        using var input = R(17, 4, 3);
        using var w = R(18, 4, 3);
        GradientCheck.Assert(x => (x[0].silu() * w).sum(), [input]);
    }

    [Fact]
    public void Embedding_GradientsAccumulateOverRepeatedIds()
    {
        using var weight = R(19, 6, 3);
        using var ids = tensor(new long[] { 1, 4, 1, 0, 4, 4 }, [2, 3]);
        using var w = R(20, 2, 3, 3);
        GradientCheck.Assert(x => (nn.functional.embedding(ids, x[0]) * w).sum(), [weight]);
    }

    [Fact]
    public void RmsNormComposition_RsqrtMean_GradientsMatchFiniteDifferences()
    {
        // RMSNorm as Qwen3 and Llama compute it: w * x * rsqrt(mean(x², -1) + eps).
        using var input = R(21, 3, 8);
        using var weight = R(22, 8);
        using var w = R(23, 3, 8);
        GradientCheck.Assert(x =>
        {
            var variance = x[0].pow(2).mean(-1, keepdim: true);
            var normed = x[0] * (variance + 1e-6).rsqrt();
            return (normed * x[1] * w).sum();
        }, [input, weight]);
    }

    [Fact]
    public void GradientCheck_WrongGradient_IsDetected()
    {
        // The checker itself must be able to fail: detach one factor so autograd misses a term.
        using var a = R(24, 3);
        Assert.ThrowsAny<Exception>(() => GradientCheck.Assert(x => (x[0] * x[0].detach()).sum(), [a]));
    }
}
