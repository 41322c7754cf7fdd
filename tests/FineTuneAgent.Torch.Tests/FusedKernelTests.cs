namespace FineTuneAgent.Torch.Tests;

/// <summary>
/// The fused kernels against two references: central finite differences in float64 (gradients), and the eager
/// ATen composition they replace (values and gradients, in float32 and bfloat16, including the mixed
/// bfloat16-input / float32-weight case that CPU autocast produces).
/// </summary>
public class FusedKernelTests
{
    private static Tensor EagerRmsNorm(Tensor x, Tensor w, double eps)
    {
        var xf = x.to_type(ScalarType.Float32);
        var normed = xf * (xf.pow(2).mean(-1, keepdim: true) + eps).rsqrt();
        return w * normed.to_type(x.dtype);
    }

    private static Tensor EagerRmsNorm64(Tensor x, Tensor w, double eps) => w * (x * (x.pow(2).mean(-1, keepdim: true) + eps).rsqrt());

    private static Tensor EagerRotary(Tensor x, Tensor cos, Tensor sin)
    {
        // x (B, S, heads, d); cos/sin (B, S, d) broadcast over heads.
        var half = x.size(-1) / 2;
        var rotated = cat([-x.narrow(-1, half, half), x.narrow(-1, 0, half)], -1);
        return x * cos.unsqueeze(2) + rotated * sin.unsqueeze(2);
    }

    [Fact]
    public void RmsNorm_GradientsMatchFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var x = randn([2, 3, 6], ScalarType.Float64);
        var w = randn([6], ScalarType.Float64);
        var project = GradientCheck.Random(2, 2, 3, 6);
        GradientCheck.Assert(a => (fused.rms_norm(a[0], a[1], 1e-6) * project).sum(), [x, w]);
        // And the value is the formula's.
        AssertClose(EagerRmsNorm64(x, w, 1e-6), fused.rms_norm(x, w, 1e-6), 1e-12);
    }

    [Fact]
    public void Swiglu_GradientsMatchFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var g = randn([4, 5], ScalarType.Float64) * 3;
        var u = randn([4, 5], ScalarType.Float64);
        var project = GradientCheck.Random(4, 4, 5);
        GradientCheck.Assert(a => (fused.swiglu(a[0], a[1]) * project).sum(), [g, u]);
        AssertClose(g.silu() * u, fused.swiglu(g, u), 1e-12);
    }

    [Fact]
    public void Rotary_GradientMatchesFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var x = randn([2, 3, 2, 4], ScalarType.Float64);
        var angles = randn([2, 3, 4], ScalarType.Float64);
        var (cos, sin) = (angles.cos(), angles.sin());
        var project = GradientCheck.Random(6, 2, 3, 2, 4);
        GradientCheck.Assert(a => (fused.rotary(a[0], cos, sin) * project).sum(), [x]);
        AssertClose(EagerRotary(x, cos, sin), fused.rotary(x, cos, sin), 1e-12);
    }

    [Theory]
    [InlineData(ScalarType.Float32, ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16, ScalarType.BFloat16)]
    [InlineData(ScalarType.BFloat16, ScalarType.Float32)]
    public void RmsNorm_EqualsEager_ValuesAndGradients(ScalarType xType, ScalarType wType)
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        var x0 = (randn([3, 5, 64]) * 4).to_type(xType);
        var w0 = (randn([64]) + 1).to_type(wType);
        var dy = randn([3, 5, 64]);
        var (ye, gxe, gwe) = RunBoth(x0, w0, (x, w) => EagerRmsNorm(x, w!, 1e-6), dy);
        var (yf, gxf, gwf) = RunBoth(x0, w0, (x, w) => fused.rms_norm(x, w!, 1e-6), dy);
        Assert.Equal(ye.dtype, yf.dtype);
        Assert.Equal(gxe.dtype, gxf.dtype);
        // Only the mean's summation order differs: float32 to a few ulps; a bfloat16 result may round the other
        // way at a tie (one bfloat16 ulp, 2⁻⁸ relative).
        var tolerance = xType == ScalarType.Float32 ? 1e-5 : 1e-2;
        AssertClose(ye, yf, tolerance);
        AssertClose(gxe, gxf, xType == ScalarType.Float32 ? 1e-4 : 2e-2);
        AssertClose(gwe, gwf, xType == ScalarType.Float32 ? 1e-4 : 2e-2);
    }

    [Fact]
    public void Swiglu_Float32_EqualsEager()
    {
        using var scope = NewDisposeScope();
        manual_seed(9);
        var g0 = randn([7, 33]) * 3;
        var u0 = randn([7, 33]);
        var dy = randn([7, 33]);
        var (ye, gge, gue) = RunBoth(g0, u0, (g, u) => g.silu() * u!, dy);
        var (yf, ggf, guf) = RunBoth(g0, u0, (g, u) => fused.swiglu(g, u!), dy);
        // The same roundings at the same points and no reduction: equal up to exp's last bit.
        AssertClose(ye, yf, 1e-6);
        AssertClose(gue, guf, 1e-6);
        AssertClose(gge, ggf, 1e-6);
    }

    /// <summary>
    /// In bfloat16, eager's vectorised silu rounds every intermediate (exp, 1 + exp, the quotient) to bfloat16;
    /// the fused kernel rounds only where the model's tensors are bfloat16 (silu's result, the product). So
    /// instead of eager's bits, both are held to the float64 truth for the same bfloat16 inputs: the fused kernel
    /// within bfloat16's rounding of its two stored results, and no less accurate than eager overall.
    /// </summary>
    [Fact]
    public void Swiglu_BFloat16_IsAtLeastAsAccurateAsEager()
    {
        using var scope = NewDisposeScope();
        manual_seed(9);
        var g0 = (randn([7, 33]) * 3).to_type(ScalarType.BFloat16);
        var u0 = randn([7, 33]).to_type(ScalarType.BFloat16);
        var dy = randn([7, 33]);
        var (ye, gge, gue) = RunBoth(g0, u0, (g, u) => g.silu() * u!, dy);
        var (yf, ggf, guf) = RunBoth(g0, u0, (g, u) => fused.swiglu(g, u!), dy);
        var g64 = g0.to_type(ScalarType.Float64);
        var u64 = u0.to_type(ScalarType.Float64);
        var dy64 = dy.to_type(ScalarType.BFloat16).to_type(ScalarType.Float64);   // the gradient reaching y is bfloat16
        var sig = g64.sigmoid();
        var truthY = g64 * sig * u64;
        var truthGu = dy64 * g64 * sig;
        var truthGg = dy64 * u64 * sig * (1 + g64 * (1 - sig));
        foreach (var (truth, eager, mine, what) in new[] { (truthY, ye, yf, "y"), (truthGu, gue, guf, "d up"), (truthGg, gge, ggf, "d gate") })
        {
            var t = truth.data<double>();
            var e = eager.to_type(ScalarType.Float64).data<double>();
            var f = mine.to_type(ScalarType.Float64).data<double>();
            // Two bfloat16 roundings of 2⁻⁹ each, compounded through the product: 2⁻⁷ relative, plus a floor for values near 0.
            for (var i = 0; i < t.Length; i++)
                Assert.True(Math.Abs(f[i] - t[i]) <= Math.Abs(t[i]) / 128 + 1e-3, $"{what}[{i}]: fused {f[i]:R}, float64 {t[i]:R}");
            var fusedError = t.Select((v, i) => Math.Abs(f[i] - v)).Sum();
            var eagerError = t.Select((v, i) => Math.Abs(e[i] - v)).Sum();
            Assert.True(fusedError <= eagerError * 1.05, $"{what}: fused total error {fusedError:G3}, eager {eagerError:G3}");
        }
    }

    [Theory]
    [InlineData(ScalarType.Float32, ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16, ScalarType.BFloat16)]
    [InlineData(ScalarType.BFloat16, ScalarType.Float32)]
    public void Rotary_EqualsEager_BitForBit(ScalarType xType, ScalarType cType)
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        var x0 = randn([2, 5, 3, 8]).to_type(xType);
        var angles = randn([2, 5, 8]) * 10;
        var (cos, sin) = (angles.cos().to_type(cType), angles.sin().to_type(cType));
        var dy = randn([2, 5, 3, 8]);
        var (ye, gxe, _) = RunBoth(x0, null, (x, _) => EagerRotary(x, cos, sin), dy);
        var (yf, gxf, _) = RunBoth(x0, null, (x, _) => fused.rotary(x, cos, sin), dy);
        Assert.Equal(ye.dtype, yf.dtype);
        AssertClose(ye, yf, 0);
        AssertClose(gxe, gxf, 0);
    }

    [Theory]
    [InlineData(ScalarType.Float32, 1000)]
    [InlineData(ScalarType.Float32, 151936)]   // Qwen3's vocabulary: the exp must hold over long rows
    [InlineData(ScalarType.BFloat16, 1000)]
    public void CrossEntropyWithGrad_EqualsEagerLossAndAutogradGradient(ScalarType type, int vocab)
    {
        using var scope = NewDisposeScope();
        manual_seed(13);
        var logits0 = (randn([5, vocab]) * 6).to_type(type);
        var targets = tensor(new long[] { 3, -100, vocab - 1, 0, 17 }, [5]);
        const double scale = 0.25;

        // Eager: the float32 view, cross_entropy summed (ignored row counts 0), autograd for scale·loss.
        var x = logits0.detach().clone().requires_grad_();
        var eager = nn.functional.cross_entropy(x.to_type(ScalarType.Float32), targets, ignore_index: -100, reduction: nn.Reduction.Sum);
        (eager * scale).backward();

        var (loss, grad) = fused.cross_entropy_with_grad(logits0, targets, scale);
        Assert.Equal(ScalarType.Float64, loss.dtype);
        Assert.Equal(type, grad.dtype);
        Assert.Equal(eager.ToDouble(), loss.ToDouble(), 1e-5 * Math.Abs(eager.ToDouble()));
        // float32: a few ulps of exp; bfloat16: the gradient is rounded to bfloat16 once, as eager's cast does.
        AssertClose(x.grad!, grad, type == ScalarType.Float32 ? 1e-5 : 1e-2);
        // The ignored row has a zero gradient, and each other row's gradient sums to 0 (softmax − one-hot).
        var g = grad.to_type(ScalarType.Float64);
        Assert.Equal(0.0, g[1].abs().sum().ToDouble());
        Assert.Equal(0.0, g[0].sum().ToDouble(), type == ScalarType.Float32 ? 1e-5 : 1e-2);
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void CrossEntropyWithGradInPlace_WritesTheSameGradientOverTheLogits_AndTheSumAloneIsTheSameLoss(ScalarType type)
    {
        using var scope = NewDisposeScope();
        manual_seed(14);
        var logits0 = (randn([6, 5000]) * 4).to_type(type);
        var targets = tensor(new long[] { 3, -100, 4999, 0, 17, 2500 }, [6]);

        var (loss, grad) = fused.cross_entropy_with_grad(logits0, targets, 0.5);
        var sumOnly = fused.cross_entropy_sum(logits0, targets);
        var inPlace = logits0.clone();
        var inPlaceLoss = fused.cross_entropy_with_grad_(inPlace, targets, 0.5);

        Assert.Equal(loss.ToDouble(), sumOnly.ToDouble());
        Assert.Equal(loss.ToDouble(), inPlaceLoss.ToDouble());
        Assert.True(grad.equal(inPlace), "the gradient written over the logits differs from the returned one");
    }

    [Fact]
    public void CrossEntropyWithGradInPlace_RefusesStridedLogits_AndLogitsAnotherNodeSaved()
    {
        using var scope = NewDisposeScope();
        var targets = tensor(new long[] { 1, 2 }, [2]);
        var strided = randn([10, 2]).t();
        var e = Assert.Throws<TorchArgumentException>(() => fused.cross_entropy_with_grad_(strided, targets));
        Assert.Contains("contiguous", e.Message);

        // sin saves its input for backward; overwriting that input with the gradient must not pass silently.
        var x = randn([2, 10]).requires_grad_();
        var saved = x * 2;
        var downstream = saved.sin().sum();
        using (no_grad())
            fused.cross_entropy_with_grad_(saved, targets);
        Assert.ThrowsAny<Exception>(() => downstream.backward());
    }

    [Fact]
    public void CrossEntropyWithGrad_TargetOutsideTheVocabulary_IsNamed()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<TorchArgumentException>(() => fused.cross_entropy_with_grad(randn([2, 10]), tensor(new long[] { 3, 10 }, [2])));
        Assert.Contains("target 10 of row 1 is outside 0..9", e.Message);
        Assert.Throws<TorchArgumentException>(() => fused.cross_entropy_with_grad(randn([2, 10]), tensor(new long[] { 3 }, [1])));
    }

    [Theory]
    [InlineData(ScalarType.Float32, ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16, ScalarType.BFloat16)]
    [InlineData(ScalarType.BFloat16, ScalarType.Float32)]
    public void MaskedSoftmax_EqualsEager_ValuesAndGradients(ScalarType scoresType, ScalarType outType)
    {
        using var scope = NewDisposeScope();
        manual_seed(17);
        const long b = 2, h = 3, s = 5, t = 7;
        var scores0 = (randn([b, h, s, t]) * 4).to_type(scoresType);
        // Causal over the last 5 keys of 7 (2 cached), and row 1 pads its first 3 keys away; row 1's query 0 then
        // sees only keys 3..2: nothing (a fully masked row gives the uniform distribution, as eager does).
        var allowedValues = new bool[b * s * t];
        for (var bi = 0; bi < b; bi++)
            for (var qi = 0; qi < s; qi++)
                for (var ki = 0; ki < t; ki++)
                    allowedValues[(bi * s + qi) * t + ki] = ki <= qi + 2 && (bi == 0 || ki >= 3) && !(bi == 1 && qi == 0);
        var allowed = tensor(allowedValues, [b, 1, s, t]);
        const double scale = 0.125;
        var dy = randn([b, h, s, t]);
        var (ye, ge, _) = RunBoth(scores0, null, (x, _) =>
            (x * scale).masked_fill(allowed.logical_not(), scoresType == ScalarType.BFloat16 ? -3.3895313892515355e38 : float.MinValue)
                .softmax(-1, ScalarType.Float32).to_type(outType), dy);
        var (yf, gf, _) = RunBoth(scores0, null, (x, _) => fused.masked_softmax(x, allowed, scale, outType), dy);
        Assert.Equal(ye.dtype, yf.dtype);
        Assert.Equal(ge.dtype, gf.dtype);
        AssertClose(ye, yf, outType == ScalarType.Float32 ? 1e-6 : 1e-2);
        AssertClose(ge, gf, scoresType == ScalarType.Float32 ? 1e-5 : 2e-2);
        // Masked keys get exactly nothing, and no gradient.
        var y = yf.to_type(ScalarType.Float64).data<double>();
        var g = gf.to_type(ScalarType.Float64).data<double>();
        for (var i = 0; i < y.Length; i++)
        {
            var bi = i / (h * s * t);
            var rest = i % (s * t);
            if (!allowedValues[bi * s * t + rest] && !(bi == 1 && rest / t == 0))
            {
                Assert.Equal(0.0, y[i]);
                Assert.Equal(0.0, g[i]);
            }
        }
    }

    /// <summary>
    /// The composition the fused attention replaces, written as HF's eager attention (repeat_kv, then per head):
    /// q·kᵀ in the dtype, ·scale, masked_fill with the dtype's lowest value, softmax in float32, cast, ·v.
    /// q (B, S, nH, hd), k and v (B, T, nKV, hd); returns (B, S, nH, hd).
    /// </summary>
    private static Tensor EagerAttention(Tensor q, Tensor k, Tensor v, Tensor allowed, double scale)
    {
        long b = k.size(0), t = k.size(1), nKv = k.size(2), hd = k.size(3), nH = q.size(2);
        Tensor RepeatKv(Tensor x) => x.transpose(1, 2).unsqueeze(2).expand(b, nKv, nH / nKv, t, hd).reshape(b, nH, t, hd);
        var scores = q.transpose(1, 2).matmul(RepeatKv(k).transpose(2, 3)) * scale;                  // (B, nH, S, T)
        var lowest = q.dtype == ScalarType.BFloat16 ? -3.3895313892515355e38 : float.MinValue;
        var probs = scores.masked_fill(allowed.logical_not(), lowest).softmax(-1, ScalarType.Float32).to_type(q.dtype);
        return probs.matmul(RepeatKv(v)).transpose(1, 2);
    }

    /// <summary>
    /// Two sequences of s positions: the first causal; the second left-padded by 3 (its queries 0..2 may attend to
    /// nothing: uniform rows, as eager) and right-padded by 4 (its last queries attend to keys that end before them).
    /// </summary>
    private static Tensor AttentionMask(long s)
    {
        var values = new bool[2 * s * s];
        for (var qi = 0; qi < s; qi++)
            for (var ki = 0; ki < s; ki++)
            {
                values[qi * s + ki] = ki <= qi;
                values[(s + qi) * s + ki] = ki <= qi && ki >= 3 && ki < s - 4;
            }
        return tensor(values, [2, 1, s, s]);
    }

    /// <summary>
    /// Grouped-query attention (4 query heads over 2 key/value heads) against the eager composition, values and the
    /// gradients of q, k and v: float32 (attention.cpp's query blocks) at lengths inside one query block, across
    /// several (the last one partial), and past the causal skipping's block boundaries, to rounding (summation order
    /// of the matmuls and softmax); bfloat16 (attention_bf16.cpp's whole heads) to its resolution.
    /// </summary>
    [Theory]
    [InlineData(ScalarType.Float32, 37)]
    [InlineData(ScalarType.Float32, 200)]
    [InlineData(ScalarType.BFloat16, 37)]
    [InlineData(ScalarType.BFloat16, 200)]
    public void Attention_EqualsEager_ValuesAndGradients(ScalarType type, long s)
    {
        using var scope = NewDisposeScope();
        manual_seed(19);
        const long b = 2, nH = 4, nKv = 2, hd = 16;
        var q0 = (randn([b, s, nH, hd]) * 2).to_type(type);
        var k0 = (randn([b, s, nKv, hd]) * 2).to_type(type);
        var v0 = randn([b, s, nKv, hd]).to_type(type);
        var allowed = AttentionMask(s);
        var scale = 1 / Math.Sqrt(hd);
        var dy = randn([b, s, nH, hd]);
        var eager = RunAttention(q0, k0, v0, dy, (q, k, v) => EagerAttention(q, k, v, allowed, scale));
        var mine = RunAttention(q0, k0, v0, dy, (q, k, v) => fused.attention(q, k, v, allowed, scale));
        Assert.Equal(eager[0].dtype, mine[0].dtype);
        Assert.True(mine[0].is_contiguous());
        string[] what = ["output", "dq", "dk", "dv"];
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(eager[i].dtype, mine[i].dtype);
            AssertClose(eager[i], mine[i], type == ScalarType.Float32 ? 1e-5 : 2e-2, what[i]);
        }
    }

    /// <summary>No mask at all (every query sees every key, so no block skips any), over two query blocks: equal to eager.</summary>
    [Fact]
    public void Attention_WithoutMasking_EqualsEager()
    {
        using var scope = NewDisposeScope();
        manual_seed(23);
        const long b = 1, s = 70, nH = 2, nKv = 1, hd = 8;
        var q0 = randn([b, s, nH, hd]);
        var k0 = randn([b, s, nKv, hd]);
        var v0 = randn([b, s, nKv, hd]);
        var allowed = ones([b, 1, s, s], ScalarType.Bool);
        var dy = randn([b, s, nH, hd]);
        var eager = RunAttention(q0, k0, v0, dy, (q, k, v) => EagerAttention(q, k, v, allowed, 0.3));
        var mine = RunAttention(q0, k0, v0, dy, (q, k, v) => fused.attention(q, k, v, allowed, 0.3));
        for (var i = 0; i < 4; i++)
            AssertClose(eager[i], mine[i], 1e-5);
    }

    /// <summary>
    /// Between forward and backward the bfloat16 core keeps nothing the size of its (B, nH, S, T) probabilities (4 MiB
    /// here), though forward forms them; the eager products with the fused softmax between them (the bfloat16 path
    /// before the core took it) keep them. Measured by the caching allocator's live bytes, which count the blocks of
    /// 1 MiB or more: the scores, the probabilities, nothing else here (the assembly runs one test at a time).
    /// The two run the same batched products and the same row code, so the output and dV, which backward forms from
    /// the probabilities it recomputed, are the eager path's to the bit; dQ and dK to bfloat16's resolution (the core's
    /// softmax backward takes the float32 probabilities, as torch's softmax does, the fused softmax its bfloat16 result).
    /// </summary>
    [Fact]
    public void Attention_BFloat16_KeepsNoProbabilitiesForBackward()
    {
        using var scope = NewDisposeScope();
        manual_seed(29);
        const long b = 2, s = 512, nH = 4, nKv = 2, hd = 16;
        const long probabilities = b * nH * s * s * 2;
        var q0 = (randn([b, s, nH, hd]) * 2).to_type(ScalarType.BFloat16);
        var k0 = (randn([b, s, nKv, hd]) * 2).to_type(ScalarType.BFloat16);
        var v0 = randn([b, s, nKv, hd]).to_type(ScalarType.BFloat16);
        var allowed = AttentionMask(s);
        var dy = randn([b, s, nH, hd]);
        const double scale = 0.25;

        (long Kept, long Peak, Tensor[] Results) Measure(Func<Tensor, Tensor, Tensor, Tensor> f)
        {
            using var inner = NewDisposeScope();
            var q = q0.detach().clone().requires_grad_();
            var k = k0.detach().clone().requires_grad_();
            var v = v0.detach().clone().requires_grad_();
            cpu.allocator.empty_cache();
            cpu.allocator.reset_peak();
            var live0 = cpu.allocator.live_bytes();
            var y = f(q, k, v);
            var kept = cpu.allocator.live_bytes() - live0;
            var peak = cpu.allocator.peak_bytes() - live0;
            (y.to_type(ScalarType.Float32) * dy).sum().backward();
            Tensor[] results = [y.detach(), q.grad!, k.grad!, v.grad!];
            inner.MoveToOuter(results);
            return (kept, peak, results);
        }

        var core = Measure((q, k, v) => fused.attention(q, k, v, allowed, scale));
        var eager = Measure((q, k, v) => EagerProductsWithFusedSoftmax(q, k, v, allowed, scale));
        Assert.True(core.Peak >= probabilities, $"forward formed no probabilities? peak {core.Peak} bytes");
        Assert.True(core.Kept < probabilities, $"the core kept {core.Kept} bytes for backward");
        Assert.True(eager.Kept >= probabilities, $"the eager path kept only {eager.Kept} bytes");
        Assert.True(eager.Results[0].equal(core.Results[0]), "output");
        Assert.True(eager.Results[3].equal(core.Results[3]), "dv");
        AssertClose(eager.Results[1], core.Results[1], 2e-2, "dq");
        AssertClose(eager.Results[2], core.Results[2], 2e-2, "dk");
    }

    /// <summary>
    /// Attention.cs's eager path with the shim's fused softmax: the query heads sharing a key/value head stacked along
    /// the rows, one product per key/value head, the fused masked softmax, one product with v. Its intermediates are
    /// disposed before it returns, so only what autograd saved stays.
    /// </summary>
    private static Tensor EagerProductsWithFusedSoftmax(Tensor q, Tensor k, Tensor v, Tensor allowed, double scale)
    {
        using var scope = NewDisposeScope();
        long b = q.size(0), s = q.size(1), nH = q.size(2), hd = q.size(3), nKv = k.size(2), t = k.size(1);
        var stacked = q.transpose(1, 2).reshape(b, nKv, nH / nKv * s, hd);                   // (B, nKV, groups·S, hd)
        var products = stacked.matmul(k.transpose(1, 2).transpose(2, 3));                    // (B, nKV, groups·S, T)
        var probs = fused.masked_softmax(products.view(b, nH, s, t), allowed, scale, q.dtype).view(b, nKv, nH / nKv * s, t);
        var y = probs.matmul(v.transpose(1, 2)).view(b, nH, s, hd).transpose(1, 2).contiguous();
        return scope.MoveToOuter(y);
    }

    /// <summary>y = f(q, k, v), then backward of Σ y·dy; returns y, dq, dk, dv.</summary>
    private static Tensor[] RunAttention(Tensor q0, Tensor k0, Tensor v0, Tensor dy, Func<Tensor, Tensor, Tensor, Tensor> f)
    {
        var q = q0.detach().clone().requires_grad_();
        var k = k0.detach().clone().requires_grad_();
        var v = v0.detach().clone().requires_grad_();
        var y = f(q, k, v);
        (y.to_type(ScalarType.Float32) * dy).sum().backward();
        return [y.detach(), q.grad!, k.grad!, v.grad!];
    }

    [Fact]
    public void BadArguments_AreArgumentErrors()
    {
        using var scope = NewDisposeScope();
        var x = randn([2, 4]);
        Assert.Throws<TorchArgumentException>(() => fused.rms_norm(x, randn([3]), 1e-6));
        Assert.Throws<TorchArgumentException>(() => fused.rms_norm(x, randn([4]).to_type(ScalarType.Float64), 1e-6));
        Assert.Throws<TorchArgumentException>(() => fused.swiglu(x, randn([4, 2])));
        Assert.Throws<TorchArgumentException>(() => fused.rotary(randn([1, 2, 3, 5]), randn([1, 2, 5]), randn([1, 2, 5])));
        Assert.Throws<TorchArgumentException>(() => fused.rotary(randn([1, 2, 3, 4]), randn([1, 3, 4]), randn([1, 3, 4])));
        var (q, kv, mask) = (randn([1, 3, 4, 8]), randn([1, 3, 2, 8]), ones([1, 1, 3, 3], ScalarType.Bool));
        Assert.Throws<TorchArgumentException>(() => fused.attention(q, randn([1, 3, 3, 8]), randn([1, 3, 3, 8]), mask, 1));  // 3 kv heads, 4 query heads
        Assert.Throws<TorchArgumentException>(() => fused.attention(q, kv, kv.to_type(ScalarType.BFloat16), mask, 1));
        Assert.Throws<TorchArgumentException>(() => fused.attention(q, kv, kv, ones([1, 1, 3, 4], ScalarType.Bool), 1));
        Assert.Throws<TorchArgumentException>(() => fused.attention(q, kv, kv, ones([1, 1, 3, 3]), 1));                      // float mask
        Assert.True(fused.Fusable(x, randn([4])));
        Assert.True(fused.Fusable(x.to_type(ScalarType.BFloat16), randn([4])));
        Assert.False(fused.Fusable(x, randn([4]).to_type(ScalarType.BFloat16)));
        Assert.False(fused.Fusable(x.to_type(ScalarType.Float16), randn([4]).to_type(ScalarType.Float16)));
    }

    [Fact]
    public void Profile_WritesAChromeTraceOfTheOpsRun()
    {
        var path = Path.Combine(Path.GetTempPath(), $"fta-profile-{Guid.NewGuid():N}.json");
        try
        {
            using (autograd.profile(path))
            {
                using var scope = NewDisposeScope();
                var a = randn([8, 8]);
                a.matmul(a).sum();
            }
            var text = File.ReadAllText(path);
            using var doc = System.Text.Json.JsonDocument.Parse(text);
            var names = doc.RootElement.EnumerateArray().Select(e => e.GetProperty("name").GetString()).ToList();
            Assert.Contains("aten::matmul", names);
            Assert.Contains("aten::sum", names);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>y = f(x, w), then backward of Σ y·dy; returns y and the gradients (as float32 copies for comparing).</summary>
    private static (Tensor Y, Tensor Gx, Tensor Gw) RunBoth(Tensor x0, Tensor? w0, Func<Tensor, Tensor?, Tensor> f, Tensor dy)
    {
        var x = x0.detach().clone().requires_grad_();
        var w = w0?.detach().clone().requires_grad_();
        var y = f(x, w!);
        (y.to_type(ScalarType.Float32) * dy).sum().backward();
        return (y.detach(), x.grad!, w?.grad!);
    }

    private static void AssertClose(Tensor expected, Tensor actual, double relative, string what = "")
    {
        Assert.Equal(expected.shape, actual.shape);
        var e = expected.to_type(ScalarType.Float64).contiguous().data<double>();
        var a = actual.to_type(ScalarType.Float64).contiguous().data<double>();
        var scale = Math.Max(1e-6, e.Max(Math.Abs));
        for (var i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= relative * scale, $"{what} element {i}: eager {e[i]:R}, fused {a[i]:R}");
    }
}
