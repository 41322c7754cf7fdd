using FineTuneAgent.Torch.Modules;

namespace FineTuneAgent.Torch.Tests;

/// <summary>Optimiser updates against the published algorithms computed by hand in C# doubles.</summary>
public class OptimizerTests
{
    private static Parameter P(params double[] v) => new(tensor(v));

    private static void SetGrad(Parameter p, params double[] g)
    {
        using var t = tensor(g);
        p.grad = t;
    }

    /// <summary>AdamW as in Loshchilov and Hutter / torch.optim.AdamW, one parameter element.</summary>
    private static double[] HandAdamW(double theta, double[] grads, double lr, double b1, double b2, double eps, double wd)
    {
        double m = 0, v = 0;
        var history = new double[grads.Length];
        for (var t = 1; t <= grads.Length; t++)
        {
            var g = grads[t - 1];
            theta *= 1 - lr * wd;
            m = b1 * m + (1 - b1) * g;
            v = b2 * v + (1 - b2) * g * g;
            var mHat = m / (1 - Math.Pow(b1, t));
            var vHat = v / (1 - Math.Pow(b2, t));
            theta -= lr * mHat / (Math.Sqrt(vHat) + eps);
            history[t - 1] = theta;
        }
        return history;
    }

    [Fact]
    public void AdamW_TwoSteps_MatchHandComputedUpdate()
    {
        using var p = P(1.0, -2.0);
        using var opt = optim.AdamW([p], lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.01);
        var grads = new[] { new[] { 0.5, -1.5 }, new[] { 0.25, 3.0 } };
        var expected0 = HandAdamW(1.0, [0.5, 0.25], 0.1, 0.9, 0.999, 1e-8, 0.01);
        var expected1 = HandAdamW(-2.0, [-1.5, 3.0], 0.1, 0.9, 0.999, 1e-8, 0.01);
        for (var step = 0; step < 2; step++)
        {
            SetGrad(p, grads[step]);
            opt.step();
            var got = p.data<double>();
            Assert.Equal(expected0[step], got[0], 12);
            Assert.Equal(expected1[step], got[1], 12);
        }
        // First step of Adam moves each weight by ~lr against the gradient's sign.
        Assert.Equal(1.0 * (1 - 0.001) - 0.1, expected0[0], 6);
    }

    /// <summary>
    /// Five AdamW steps with fused: true and with the eager ops over the whole tensors, from the same gradients: the
    /// parameter and its states agree bit for bit, for plain, amsgrad and maximize. Float32 takes the one-pass update
    /// (100,003 elements: several threads' ranges and a ragged end; its order of operations and FMAs are eager's) and
    /// stays within 1e-5 relative of the update computed in doubles; bfloat16 takes the eager ops a piece at a time
    /// (4,194,307 elements: two pieces, the second ragged).
    /// </summary>
    [Theory]
    [InlineData(ScalarType.Float32, false, false)]
    [InlineData(ScalarType.Float32, true, false)]
    [InlineData(ScalarType.Float32, false, true)]
    [InlineData(ScalarType.BFloat16, false, false)]
    [InlineData(ScalarType.BFloat16, true, true)]
    public void AdamW_Fused_EqualsTheEagerOps(ScalarType dtype, bool amsgrad, bool maximize)
    {
        var n = dtype == ScalarType.Float32 ? 100_003L : (4L << 20) + 3;
        manual_seed(3);
        using var start = randn([n]);
        using var fusedParam = new Parameter(start.to_type(dtype).clone());   // to_type of the same dtype is no copy
        using var eagerParam = new Parameter(start.to_type(dtype).clone());
        using var fusedOpt = optim.AdamW([fusedParam], lr: 0.01, weight_decay: 0.1, amsgrad: amsgrad, maximize: maximize, fused: true);
        using var eagerOpt = optim.AdamW([eagerParam], lr: 0.01, weight_decay: 0.1, amsgrad: amsgrad, maximize: maximize, fused: false);
        var grads = new List<double[]>();
        for (var step = 0; step < 5; step++)
        {
            using var g = randn([n]).mul(step + 0.5);
            using (var g1 = g.to_type(dtype).clone()) fusedParam.grad = g1;
            using (var g2 = g.to_type(dtype).clone()) eagerParam.grad = g2;
            using (var gd = g.to_type(dtype).to_type(ScalarType.Float64)) grads.Add(gd.data<double>().ToArray());
            fusedOpt.step();
            eagerOpt.step();
        }
        void Same(Tensor a, Tensor b, string what)
        {
            using var fa = a.to_type(ScalarType.Float32);
            using var fb = b.to_type(ScalarType.Float32);
            var x = fa.data<float>().ToArray();
            var y = fb.data<float>().ToArray();
            var differing = Enumerable.Range(0, x.Length).Count(i => BitConverter.SingleToInt32Bits(x[i]) != BitConverter.SingleToInt32Bits(y[i]));
            var first = Enumerable.Range(0, x.Length).FirstOrDefault(i => x[i] != y[i]);
            Assert.True(differing == 0, $"{what}: {differing} of {x.Length} elements differ, e.g. [{first}] one pass {x[first]}, eager {y[first]}");
        }
        Same(fusedParam, eagerParam, "parameter");
        var fusedState = fusedOpt.state_dict();
        var eagerState = eagerOpt.state_dict();
        foreach (var name in amsgrad ? new[] { "exp_avg", "exp_avg_sq", "max_exp_avg_sq" } : ["exp_avg", "exp_avg_sq"])
            Same(fusedState[$"state.0.{name}"], eagerState[$"state.0.{name}"], name);
        foreach (var t in fusedState.Values.Concat(eagerState.Values))
            t.Dispose();

        if (dtype == ScalarType.Float32 && !amsgrad)
        {
            var got = fusedParam.data<float>().ToArray();
            var first = start.data<float>().ToArray();
            foreach (var i in new[] { 0, 1, 77_777, (int)n - 1 })
            {
                var history = grads.Select(g => maximize ? -g[i] : g[i]).ToArray();
                var expected = HandAdamW(first[i], history, 0.01, 0.9, 0.999, 1e-8, 0.1)[^1];
                Assert.True(Math.Abs(expected - got[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected)), $"[{i}]: doubles {expected}, one pass {got[i]}");
            }
        }
    }

    /// <summary>
    /// Fused, float32's one-pass update allocates nothing and bfloat16's pieces hold at most 2 × 4 Mi elements of
    /// temporaries; the eager ops allocate two temporaries of the parameter's size.
    /// </summary>
    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void AdamW_Fused_BoundsItsTemporaries(ScalarType dtype)
    {
        const long n = 16L << 20;
        long elementSize = dtype == ScalarType.Float32 ? 4 : 2;
        foreach (var fused in new[] { true, false })
        {
            using var p = new Parameter(randn([n]).to_type(dtype));
            using var opt = optim.AdamW([p], lr: 0.01, fused: fused);
            using (var g = randn([n]).to_type(dtype)) p.grad = g;
            opt.step();   // creates the states
            cpu.allocator.empty_cache();
            var live = cpu.allocator.live_bytes();
            cpu.allocator.reset_peak();
            opt.step();
            var transient = cpu.allocator.peak_bytes() - live;
            if (!fused)
                Assert.True(transient >= 2 * elementSize * n, $"eager AdamW's temporaries: {transient} bytes");
            else if (dtype == ScalarType.Float32)
                Assert.Equal(0, transient);
            else
                Assert.True(transient <= 2 * elementSize * (4L << 20), $"bfloat16 pieces' temporaries: {transient} bytes");
        }
    }

    /// <summary>A gradient that is not contiguous (a transposed one) takes the eager ops, with their result.</summary>
    [Fact]
    public void AdamW_NonContiguousGradient_TakesTheEagerOps()
    {
        using var a = new Parameter(randn([64, 64]));
        using var b = new Parameter(a.detach().clone());
        using var optA = optim.AdamW([a], lr: 0.01, fused: true);
        using var optB = optim.AdamW([b], lr: 0.01, fused: false);
        using var g = randn([64, 64]);
        using (var t = g.t()) a.grad = t;
        using (var t = g.t()) b.grad = t;
        using (var ga = a.grad!) Assert.False(ga.is_contiguous());
        optA.step();
        optB.step();
        Assert.Equal(b.data<float>().ToArray(), a.data<float>().ToArray());
    }

    [Fact]
    public void AdamW_ParamGroups_UseTheirOwnLearningRate()
    {
        using var a = P(1.0);
        using var b = P(1.0);
        using var opt = optim.AdamW([new optim.ParamGroup([a], lr: 0.1), new optim.ParamGroup([b], lr: 0.01, weight_decay: 0.0)], lr: 1.0, weight_decay: 0.5);
        SetGrad(a, 1.0);
        SetGrad(b, 1.0);
        opt.step();
        Assert.Equal(HandAdamW(1.0, [1.0], 0.1, 0.9, 0.999, 1e-8, 0.5)[0], a.data<double>()[0], 12);
        Assert.Equal(HandAdamW(1.0, [1.0], 0.01, 0.9, 0.999, 1e-8, 0.0)[0], b.data<double>()[0], 12);
        opt.ParamGroups[1].LearningRate = 0.0;
        var before = b.data<double>()[0];
        SetGrad(b, 1.0);
        opt.step();
        Assert.Equal(before, b.data<double>()[0]);
    }

    [Fact]
    public void AdamW_ParameterWithoutGradient_IsLeftAlone()
    {
        using var a = P(1.0);
        using var opt = optim.AdamW([a], lr: 0.1);
        opt.step();
        Assert.Equal(1.0, a.data<double>()[0]);
    }

    [Fact]
    public void AdamW_StateDictRestore_ContinuesExactlyAsWithoutInterruption()
    {
        var grads = new[] { 0.3, -0.7, 1.1, 0.2 };
        using var reference = P(0.5);
        using var refOpt = optim.AdamW([reference], lr: 0.05);
        foreach (var g in grads)
        {
            SetGrad(reference, g);
            refOpt.step();
        }

        using var first = P(0.5);
        Dictionary<string, Tensor> saved;
        double weightAfterTwo;
        using (var opt = optim.AdamW([first], lr: 0.05))
        {
            foreach (var g in grads.Take(2))
            {
                SetGrad(first, g);
                opt.step();
            }
            saved = opt.state_dict();
            weightAfterTwo = first.data<double>()[0];
        }
        Assert.Contains("state.0.exp_avg", saved.Keys);
        Assert.Equal(2L, saved["state.0.step"].item<long>());

        using var resumed = P(weightAfterTwo);
        using (var opt = optim.AdamW([resumed], lr: 0.05))
        {
            opt.load_state_dict(saved);
            foreach (var g in grads.Skip(2))
            {
                SetGrad(resumed, g);
                opt.step();
            }
        }
        foreach (var t in saved.Values)
            t.Dispose();
        Assert.Equal(reference.data<double>()[0], resumed.data<double>()[0], 14);
    }

    [Fact]
    public void AdamW_LoadStateDict_UnknownKey_IsRejected()
    {
        using var a = P(1.0);
        using var opt = optim.AdamW([a]);
        using var t = tensor(1.0);
        var e = Assert.Throws<ArgumentException>(() => opt.load_state_dict(new Dictionary<string, Tensor> { ["stat.0.exp_avg"] = t }));
        Assert.Contains("stat.0.exp_avg", e.Message);
    }

    [Fact]
    public void Sgd_MomentumAndWeightDecay_MatchHandComputation()
    {
        using var p = P(1.0);
        using var opt = optim.SGD([p], lr: 0.1, momentum: 0.9, weight_decay: 0.1);
        // PyTorch: d = g + wd*θ; buf = d (first) or 0.9*buf + d; θ -= lr*buf.
        double theta = 1.0, buf = 0;
        var grads = new[] { 1.0, -0.5, 0.25 };
        for (var i = 0; i < grads.Length; i++)
        {
            SetGrad(p, grads[i]);
            opt.step();
            var d = grads[i] + 0.1 * theta;
            buf = i == 0 ? d : 0.9 * buf + d;
            theta -= 0.1 * buf;
            Assert.Equal(theta, p.data<double>()[0], 12);
        }
    }

    [Fact]
    public void Sgd_Nesterov_MatchesHandComputation()
    {
        using var p = P(2.0);
        using var opt = optim.SGD([p], lr: 0.5, momentum: 0.5, nesterov: true);
        double theta = 2.0, buf = 0;
        foreach (var (g, i) in new[] { 1.0, 1.0 }.Select((g, i) => (g, i)))
        {
            SetGrad(p, g);
            opt.step();
            buf = i == 0 ? g : 0.5 * buf + g;
            theta -= 0.5 * (g + 0.5 * buf);
            Assert.Equal(theta, p.data<double>()[0], 12);
        }
    }

    [Fact]
    public void ClipGradNorm_ScalesToMaxNorm_AndReturnsTheOriginalNorm()
    {
        using var a = P(0, 0);
        using var b = P(0);
        SetGrad(a, 3, 0);
        SetGrad(b, 4);
        var total = nn.utils.clip_grad_norm_([a, b], 1.0);
        Assert.Equal(5.0, total, 10);
        using var ga = a.grad!;
        using var gb = b.grad!;
        var coef = 1.0 / (5.0 + 1e-6);
        Assert.Equal(3 * coef, ga.data<double>()[0], 10);
        Assert.Equal(4 * coef, gb.data<double>()[0], 10);
        var again = nn.utils.clip_grad_norm_([a, b], 10.0);
        Assert.Equal(5.0 * coef, again, 8);
        using var ga2 = a.grad!;
        Assert.Equal(3 * coef, ga2.data<double>()[0], 10);   // under the limit: untouched
        var inf = nn.utils.clip_grad_norm_([a, b], 100.0, double.PositiveInfinity);
        Assert.Equal(4 * coef, inf, 10);
    }
}
