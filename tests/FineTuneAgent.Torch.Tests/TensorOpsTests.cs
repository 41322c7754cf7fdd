namespace FineTuneAgent.Torch.Tests;

/// <summary>Op values against results computed by hand (or by plain C# loops).</summary>
public class TensorOpsTests
{
    private static Tensor F(float[] values, params long[] shape) => tensor(values, shape);

    [Fact]
    public void Creation_ShapesDtypesAndValues_AreAsRequested()
    {
        using var z = zeros(2, 3);
        Assert.Equal([2L, 3L], z.shape);
        Assert.Equal(ScalarType.Float32, z.dtype);
        Assert.All(z.data<float>(), v => Assert.Equal(0f, v));

        using var o = ones([4], ScalarType.Int64);
        Assert.Equal([1L, 1, 1, 1], o.data<long>());

        using var f = full([2, 2], 7);
        Assert.Equal(ScalarType.Int64, f.dtype);
        using var ff = full([2], 2.5);
        Assert.Equal([2.5f, 2.5f], ff.data<float>());

        using var a = arange(0, 10, 3);
        Assert.Equal([0L, 3, 6, 9], a.data<long>());
        using var af = arange(0.0, 1.0, 0.25);
        Assert.Equal([0f, 0.25f, 0.5f, 0.75f], af.data<float>());

        using var e = eye(3);
        Assert.Equal([1f, 0, 0, 0, 1, 0, 0, 0, 1], e.data<float>());
    }

    [Fact]
    public void ManualSeed_SameSeed_SameRandomNumbers()
    {
        manual_seed(123);
        using var a = randn(5);
        using var ai = randint(0, 100, [5]);
        manual_seed(123);
        using var b = randn(5);
        using var bi = randint(0, 100, [5]);
        Assert.Equal(a.data<float>(), b.data<float>());
        Assert.Equal(ai.data<long>(), bi.data<long>());
        Assert.All(ai.data<long>(), v => Assert.InRange(v, 0, 99));
    }

    [Fact]
    public void Uniform_And_Normal_HaveRequestedMoments()
    {
        manual_seed(1);
        using var u = empty(100_000).uniform_(-2, 3);
        var uv = u.data<float>();
        Assert.InRange(uv.Min(), -2f, -1.99f);
        Assert.InRange(uv.Max(), 2.99f, 3f);
        Assert.InRange(uv.Average(), 0.47, 0.53);
        using var n = empty(100_000).normal_(1, 2);
        var nv = n.data<float>();
        var mean = nv.Average();
        var std = Math.Sqrt(nv.Select(v => (v - mean) * (v - mean)).Average());
        Assert.InRange(mean, 0.97, 1.03);
        Assert.InRange(std, 1.97, 2.03);
    }

    [Fact]
    public void KaimingUniform_LinearDefault_BoundIsOneOverSqrtFanIn()
    {
        manual_seed(2);
        using var w = empty(64, 100);
        nn.init.kaiming_uniform_(w, a: Math.Sqrt(5));
        var v = w.data<float>();
        Assert.True(v.Max() <= 0.1f && v.Min() >= -0.1f);
        Assert.True(v.Max() > 0.099f && v.Min() < -0.099f);
    }

    [Fact]
    public void Views_ReshapeTransposePermuteNarrow_MoveElementsAsRowMajor()
    {
        using var x = arange(6).reshape(2, 3);           // [[0,1,2],[3,4,5]]
        using var t = x.transpose(0, 1);                 // [[0,3],[1,4],[2,5]]
        Assert.Equal([3L, 2], t.shape);
        Assert.False(t.is_contiguous());
        using var tc = t.contiguous();
        Assert.Equal([0L, 3, 1, 4, 2, 5], tc.data<long>());
        using var p = arange(24).reshape(2, 3, 4).permute(2, 0, 1);
        Assert.Equal([4L, 2, 3], p.shape);
        using var p1 = p[1];
        Assert.Equal([1L, 5, 9, 13, 17, 21], p1.data<long>());
        using var n = x.narrow(1, 1, 2);
        Assert.Equal([1L, 2, 4, 5], n.data<long>());
        using var s = arange(10).slice(0, 1, 8, 3);
        Assert.Equal([1L, 4, 7], s.data<long>());
        using var v = x.view(3, 2);
        Assert.Equal([3L, 2], v.shape);
        using var u = x.unsqueeze(0);
        Assert.Equal([1L, 2, 3], u.shape);
        using var sq = u.squeeze(0);
        Assert.Equal([2L, 3], sq.shape);
        using var ex = tensor(new long[] { 1, 2 }, [2, 1]).expand(2, 3);
        Assert.Equal([1L, 1, 1, 2, 2, 2], ex.data<long>());
        using var fl = x.flatten();
        Assert.Equal([6L], fl.shape);
    }

    [Fact]
    public void Indexing_SelectGatherMaskedFillWhere_PickTheRightElements()
    {
        using var x = F([10, 11, 12, 13, 14, 15], 2, 3);
        using var idx = tensor(new long[] { 2, 0 });
        using var sel = x.index_select(1, idx);
        Assert.Equal([12f, 10, 15, 13], sel.data<float>());

        using var gi = tensor(new long[] { 0, 2, 1, 1 }, [2, 2]);
        using var g = x.gather(1, gi);
        Assert.Equal([10f, 12, 14, 14], g.data<float>());

        using var mask = tensor(new[] { true, false, true, false, false, true }, [2, 3]);
        using var mf = x.masked_fill(mask, -1);
        Assert.Equal([-1f, 11, -1, 13, 14, -1], mf.data<float>());

        using var other = zeros_like(x);
        using var w = where(mask, x, other);
        Assert.Equal([10f, 0, 12, 0, 0, 15], w.data<float>());

        using var ms = x[mask];
        Assert.Equal([10f, 12, 15], ms.data<float>());
    }

    [Fact]
    public void Joining_CatStackChunkSplit_RoundTrip()
    {
        using var a = F([1, 2], 1, 2);
        using var b = F([3, 4], 1, 2);
        using var c = cat([a, b], 0);
        Assert.Equal([2L, 2], c.shape);
        Assert.Equal([1f, 2, 3, 4], c.data<float>());
        using var s = stack([a, b], 0);
        Assert.Equal([2L, 1, 2], s.shape);

        using var r = arange(7);
        var chunks = r.chunk(3);
        Assert.Equal([3L, 3, 1], chunks.Select(t => t.shape[0]).ToArray());
        var splits = r.split(2);
        Assert.Equal(4, splits.Length);
        Assert.Equal([6L], splits[3].data<long>());
        var sized = r.split([1L, 6L]);
        Assert.Equal([1L, 2, 3, 4, 5, 6], sized[1].data<long>());
        foreach (var t in chunks.Concat(splits).Concat(sized))
            t.Dispose();
    }

    [Fact]
    public void RepeatInterleave_TrilTriu_MatchDefinitions()
    {
        using var x = tensor(new long[] { 1, 2 });
        using var ri = x.repeat_interleave(3, 0);
        Assert.Equal([1L, 1, 1, 2, 2, 2], ri.data<long>());
        using var o = ones(3, 3);
        using var lo = o.tril();
        Assert.Equal([1f, 0, 0, 1, 1, 0, 1, 1, 1], lo.data<float>());
        using var up = o.triu(1);
        Assert.Equal([0f, 1, 1, 0, 0, 1, 0, 0, 0], up.data<float>());
    }

    [Fact]
    public void Arithmetic_WithTensorsScalarsAndBroadcasting_MatchesHandComputation()
    {
        using var a = F([1, 2, 3, 4], 2, 2);
        using var row = F([10, 20], 2);
        using var sum = a + row;
        Assert.Equal([11f, 22, 13, 24], sum.data<float>());
        using var axpy = a.add(row, alpha: 2);
        Assert.Equal([21f, 42, 23, 44], axpy.data<float>());
        using var d = 1.0 / a;
        Assert.Equal([1f, 0.5f, 1f / 3, 0.25f], d.data<float>());
        using var rs = 10 - a;
        Assert.Equal([9f, 8, 7, 6], rs.data<float>());
        using var p = a.pow(2);
        Assert.Equal([1f, 4, 9, 16], p.data<float>());
        using var sq = p.sqrt();
        Assert.Equal([1f, 2, 3, 4], sq.data<float>());
        using var r = p.rsqrt();
        Assert.Equal(new[] { 1f, 0.5f, 1f / 3, 0.25f }, r.data<float>(), (x, y) => Math.Abs(x - y) < 1e-6);
        using var e = a.exp();
        using var l = e.log();
        Assert.Equal(a.data<float>(), l.data<float>(), (x, y) => Math.Abs(x - y) < 1e-5);
        using var n = -a;
        using var ab = n.abs();
        Assert.Equal(a.data<float>(), ab.data<float>());
        using var cl = a.clamp(2, 3);
        Assert.Equal([2f, 2, 3, 3], cl.data<float>());
        using var clmin = a.clamp_min(3);
        Assert.Equal([3f, 3, 3, 4], clmin.data<float>());

        using var m = a.clone();
        m.mul_(2).add_(1);
        Assert.Equal([3f, 5, 7, 9], m.data<float>());
    }

    [Fact]
    public void IntegerTensors_WithIntegerScalars_StayInteger()
    {
        using var x = tensor(new long[] { 1, 2, 3 });
        using var y = x + 1;
        Assert.Equal(ScalarType.Int64, y.dtype);
        Assert.Equal([2L, 3, 4], y.data<long>());
        using var z = x * 2.5;
        Assert.Equal(ScalarType.Float32, z.dtype);
    }

    [Fact]
    public void Bitwise_AndShiftOps_PackTwoNibblesIntoAByte()
    {
        // The 4-bit packing QLoRA uses: high nibble first.
        using var hi = tensor(new byte[] { 0x1, 0xF, 0x7 });
        using var lo = tensor(new byte[] { 0x2, 0x0, 0xA });
        using var shifted = hi << 4;
        using var packed = shifted | lo;
        Assert.Equal(ScalarType.Byte, packed.dtype);
        Assert.Equal(new byte[] { 0x12, 0xF0, 0x7A }, packed.data<byte>());
        using var back = packed >> 4;
        Assert.Equal(hi.data<byte>(), back.data<byte>());
        using var low = packed & 0xF;
        Assert.Equal(lo.data<byte>(), low.data<byte>());
        using var x = tensor(new int[] { 0b1100 });
        using var xo = x ^ tensor(new int[] { 0b1010 });
        Assert.Equal([0b0110], xo.data<int>());
        using var nt = ~tensor(new int[] { 0 });
        Assert.Equal([-1], nt.data<int>());
    }

    [Fact]
    public void Reductions_WithDimsAndKeepdim_MatchLoops()
    {
        using var x = F([1, 5, 3, 4, 2, 6], 2, 3);
        using var s = x.sum();
        Assert.Equal(21f, s.item<float>());
        using var s0 = x.sum(0);
        Assert.Equal([5f, 7, 9], s0.data<float>());
        using var m1 = x.mean(1, keepdim: true);
        Assert.Equal([2L, 1], m1.shape);
        Assert.Equal([3f, 4], m1.data<float>());
        var (vals, idx) = x.max(1);
        using (vals)
        using (idx)
        {
            Assert.Equal([5f, 6], vals.data<float>());
            Assert.Equal([1L, 2], idx.data<long>());
        }
        using var am = x.argmax();
        Assert.Equal(5L, am.item<long>());
        using var am1 = x.argmax(1);
        Assert.Equal([1L, 2], am1.data<long>());
        var (tv, ti) = x.topk(2, 1);
        using (tv)
        using (ti)
        {
            Assert.Equal([5f, 3, 6, 4], tv.data<float>());
            Assert.Equal([1L, 2, 2, 0], ti.data<long>());
        }
        var (sv, si) = x.sort(1, descending: true);
        using (sv)
        using (si)
            Assert.Equal([5f, 3, 1, 6, 4, 2], sv.data<float>());
        using var n = F([3, 4], 2).norm();
        Assert.Equal(5f, n.item<float>(), 5);
        using var n1 = F([3, -4], 2).norm(1.0);
        Assert.Equal(7f, n1.item<float>(), 5);
        using var cs = F([1, 2, 3], 3).cumsum(0);
        Assert.Equal([1f, 3, 6], cs.data<float>());
        using var mx = x.max();
        Assert.Equal(6f, mx.item<float>());
    }

    [Fact]
    public void Matmul_Bmm_Linear_MatchHandComputedProducts()
    {
        using var a = F([1, 2, 3, 4, 5, 6], 2, 3);
        using var b = F([7, 8, 9, 10, 11, 12], 3, 2);
        using var c = a.matmul(b);
        // [1*7+2*9+3*11, 1*8+2*10+3*12; 4*7+5*9+6*11, 4*8+5*10+6*12]
        Assert.Equal([58f, 64, 139, 154], c.data<float>());
        using var ab = stack([a, a]);
        using var bb = stack([b, b]);
        using var cb = ab.bmm(bb);
        Assert.Equal([2L, 2, 2], cb.shape);
        using var w = b.t();                 // (2, 3): y = a wᵀ = a b
        using var bias = F([1, -1], 2);
        using var y = nn.functional.linear(a, w, bias);
        Assert.Equal([59f, 63, 140, 153], y.data<float>());
    }

    [Fact]
    public void SoftmaxAndLogSoftmax_MatchDefinition()
    {
        var v = new[] { 1f, 2f, 3f };
        using var x = F(v, 1, 3);
        using var s = x.softmax(-1);
        var denom = v.Sum(z => Math.Exp(z));
        var expected = v.Select(z => (float)(Math.Exp(z) / denom)).ToArray();
        Assert.Equal(expected, s.data<float>(), (p, q) => Math.Abs(p - q) < 1e-6);
        using var ls = x.log_softmax(-1);
        Assert.Equal(expected.Select(p => (float)Math.Log(p)).ToArray(), ls.data<float>(), (p, q) => Math.Abs(p - q) < 1e-5);
    }

    [Fact]
    public void Activations_SiluGelu_MatchFormulas()
    {
        var v = new[] { -2f, -0.5f, 0f, 1.5f };
        using var x = F(v, 4);
        using var s = x.silu();
        Assert.Equal(v.Select(z => (float)(z / (1 + Math.Exp(-z)))).ToArray(), s.data<float>(), (p, q) => Math.Abs(p - q) < 1e-6);
        using var g = x.gelu();
        // exact GELU: x * Φ(x); Φ(-2)=0.0227501319, Φ(-0.5)=0.3085375387, Φ(1.5)=0.9331927987 (normal table)
        var phi = new[] { 0.0227501319, 0.3085375387, 0.5, 0.9331927987 };
        Assert.Equal(v.Select((z, i) => (float)(z * phi[i])).ToArray(), g.data<float>(), (p, q) => Math.Abs(p - q) < 1e-6);
    }

    [Fact]
    public void CrossEntropy_WithIgnoreIndex_AveragesOverKeptTargetsOnly()
    {
        using var logits = F([2, 1, 0, 0, 3, 1, 1, 1, 1], 3, 3);
        using var target = tensor(new long[] { 0, -100, 2 });
        using var loss = nn.functional.cross_entropy(logits, target);
        static double Nll(double[] row, int k) => -(row[k] - Math.Log(row.Sum(Math.Exp)));
        var expected = (Nll([2, 1, 0], 0) + Nll([1, 1, 1], 2)) / 2;
        Assert.Equal(expected, loss.item<double>(), 5);
        using var none = nn.functional.cross_entropy(logits, target, reduction: nn.Reduction.None);
        Assert.Equal(0f, none.data<float>()[1]);
        using var sum = nn.functional.cross_entropy(logits, target, reduction: nn.Reduction.Sum);
        Assert.Equal(expected * 2, sum.item<double>(), 5);
    }

    [Fact]
    public void Embedding_PicksRows()
    {
        using var w = F([0, 1, 10, 11, 20, 21], 3, 2);
        using var ids = tensor(new long[] { 2, 0, 2 });
        using var e = nn.functional.embedding(ids, w);
        Assert.Equal([20f, 21, 0, 1, 20, 21], e.data<float>());
    }

    [Fact]
    public void Dropout_TrainingScalesKeptValues_EvalIsIdentity()
    {
        manual_seed(3);
        using var x = ones(10_000);
        using var d = nn.functional.dropout(x, 0.25, training: true);
        var v = d.data<float>();
        Assert.All(v, z => Assert.True(z == 0f || Math.Abs(z - 1f / 0.75f) < 1e-6));
        Assert.InRange(v.Count(z => z == 0f) / 10_000.0, 0.22, 0.28);
        using var e = nn.functional.dropout(x, 0.25, training: false);
        Assert.True(e.equal(x));
    }

    [Fact]
    public void Multinomial_DegenerateDistribution_AlwaysPicksTheOnlyOutcome()
    {
        using var probs = F([0, 0, 1, 0, 1, 0, 0, 0], 2, 4);
        using var s = multinomial(probs, 3, replacement: true);
        Assert.Equal([2L, 2, 2, 0, 0, 0], s.data<long>());
    }

    [Fact]
    public void TypeConversions_RoundToBf16AndF16Precision()
    {
        using var x = F([1.0f + 1f / 1024, 3.0f], 2);
        using var bf = x.to_type(ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, bf.dtype);
        // bf16 keeps 8 significand bits: 1 + 2^-10 rounds to 1.
        Assert.Equal([1f, 3f], bf.ToArray<float>());
        using var h = x.half();
        Assert.Equal([1f + 1f / 1024, 3f], h.ToArray<float>());
        using var i = F([2.7f, -2.7f], 2).to_type(ScalarType.Int64);
        Assert.Equal([2L, -2L], i.data<long>());
        // bf16 1.0 is 0x3F80: the raw bytes are the high half of the float32.
        using var one = ones([1], ScalarType.BFloat16);
        Assert.Equal(new byte[] { 0x80, 0x3F }, one.bytes);
    }

    [Fact]
    public void Svd_ReconstructsTheMatrix()
    {
        using var a = F([3, 1, 1, -1, 3, 1], 2, 3);
        var (u, s, vh) = linalg.svd(a, full_matrices: false);
        using (u)
        using (s)
        using (vh)
        {
            using var us = u * s;
            using var back = us.matmul(vh);
            Assert.True(back.allclose(a, 1e-4, 1e-5));
            // Singular values of [[3,1,1],[-1,3,1]] are sqrt(12) and sqrt(10) (AAᵀ = [[11,1],[1,11]]).
            Assert.Equal([(float)Math.Sqrt(12), (float)Math.Sqrt(10)], s.data<float>(), (p, q) => Math.Abs(p - q) < 1e-5);
        }
    }
}
