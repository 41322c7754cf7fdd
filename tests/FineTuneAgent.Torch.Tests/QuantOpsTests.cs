using static FineTuneAgent.Torch.torch.ops;

namespace FineTuneAgent.Torch.Tests;

/// <summary>
/// torch.ops.bitsandbytes: the CPU loops against the device-agnostic ATen path (what CUDA runs),
/// gradients against finite differences, and what the autograd node keeps alive.
/// </summary>
public class QuantOpsTests
{
    private static readonly float[] DynamicMapStandIn = MakeCode();

    // Any sorted 256-entry code serves to compare the two paths; this one has an exact zero.
    private static float[] MakeCode() => Enumerable.Range(0, 256).Select(i => (i - 128) / 128f).ToArray();

    private static byte[][] BothPaths(Func<Tensor[]> op)
    {
        using var scope = NewDisposeScope();
        var fast = op();
        Tensor[] portable;
        using (bitsandbytes.UsePortableKernels())
            portable = op();
        Assert.Equal(fast.Length, portable.Length);
        for (var i = 0; i < fast.Length; i++)
        {
            Assert.Equal(fast[i].dtype, portable[i].dtype);
            Assert.Equal(fast[i].shape, portable[i].shape);
            Assert.Equal(fast[i].bytes, portable[i].bytes);
        }
        return fast.Select(t => t.bytes).ToArray();
    }

    [Theory]
    [InlineData(ScalarType.Float32, 64, 33 * 40)]
    [InlineData(ScalarType.BFloat16, 128, 1119)]
    [InlineData(ScalarType.Float16, 32, 63)]
    [InlineData(ScalarType.Float32, 4096, 5000)]
    public void Nf4QuantizeAndDequantize_PortablePathGivesTheSameBytes(ScalarType dtype, long blocksize, long n)
    {
        manual_seed(n);
        using var w = randn([n], dtype);
        using var code = tensor(DynamicMapStandIn);
        BothPaths(() =>
        {
            var (packed, absmax) = bitsandbytes.quantize_4bit(w, blocksize);
            var offset = absmax.mean();
            var (qabsmax, absmax2) = bitsandbytes.quantize_blockwise(absmax - offset, code, 256);
            var nested = new bitsandbytes.NestedQuantState(absmax2, code, offset);
            return [packed, absmax, qabsmax, absmax2,
                bitsandbytes.dequantize_4bit(packed, absmax, blocksize, "nf4", [n], dtype),
                bitsandbytes.dequantize_4bit(packed, qabsmax, blocksize, "nf4", [n], ScalarType.Float32, nested),
                bitsandbytes.dequantize_blockwise(qabsmax, absmax2, code, 256, ScalarType.Float64)];
        });
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void Int8QuantizeAndDequantize_PortablePathGivesTheSameBytes(ScalarType dtype)
    {
        manual_seed(3);
        using var w = randn([17, 45], dtype);
        using var zeroRow = zeros([1, 45], dtype);
        using var withZeroRow = cat([w, zeroRow]);
        BothPaths(() =>
        {
            var (q, stats) = bitsandbytes.int8_vectorwise_quant(withZeroRow);
            return [q, stats, bitsandbytes.int8_vectorwise_dequant(q, stats, dtype)];
        });
    }

    [Fact]
    public void Linear4bit_PortablePathGivesTheSameOutputAndGradient()
    {
        manual_seed(4);
        using var w = randn(24, 64);
        using var b = randn(24);
        using var x = randn(3, 64);
        var (packed, absmax) = bitsandbytes.quantize_4bit(w, 32);
        using (packed)
        using (absmax)
        {
            BothPaths(() =>
            {
                var xi = x.detach().clone().requires_grad_(true);
                var y = bitsandbytes.linear_4bit(xi, packed, absmax, 32, 24, 64, b);
                y.sum().backward();
                return [y, xi.grad!];
            });
        }
    }

    [Fact]
    public void Linear4bit_GradientOfInputAndBias_MatchFiniteDifferences()
    {
        manual_seed(5);
        using var w = randn(6, 10);
        var (packed, absmax) = bitsandbytes.quantize_4bit(w, 32);
        using (packed)
        using (absmax)
        {
            using var x = GradientCheck.Random(1, 2, 10);
            using var bias = GradientCheck.Random(2, 6);
            using var proj = GradientCheck.Random(3, 2, 6);
            GradientCheck.Assert(a => (bitsandbytes.linear_4bit(a[0], packed, absmax, 32, 6, 10, a[1]) * proj).sum(), [x, bias]);
        }
    }

    [Fact]
    public void LinearInt8_GradientOfInput_MatchesFiniteDifferences()
    {
        manual_seed(6);
        using var w = randn(5, 7);
        var (q, stats) = bitsandbytes.int8_vectorwise_quant(w);
        using (q)
        using (stats)
        {
            using var x = GradientCheck.Random(4, 3, 7);
            using var proj = GradientCheck.Random(5, 3, 5);
            GradientCheck.Assert(a => (bitsandbytes.linear_int8(a[0], q, stats) * proj).sum(), [x]);
        }
    }

    [Fact]
    public void Linear4bit_AutogradNodeSavesOnlyTheQuantizedTensors()
    {
        manual_seed(7);
        const long outF = 128, inF = 256;
        using var w = randn(outF, inF);
        using var code = tensor(DynamicMapStandIn);
        using var scope = NewDisposeScope();
        var (packed, absmax) = bitsandbytes.quantize_4bit(w, 64);
        var offset = absmax.mean();
        var (qabsmax, absmax2) = bitsandbytes.quantize_blockwise(absmax - offset, code, 256);
        var nested = new bitsandbytes.NestedQuantState(absmax2, code, offset);
        var x = randn(4, inF).requires_grad_(true);
        var y = bitsandbytes.linear_4bit(x, packed, qabsmax, 64, outF, inF, nested: nested);

        var saved = bitsandbytes.SavedTensors(y);
        // Exactly the five quantized tensors: not the input, not a dequantized weight.
        Assert.Equal(5, saved.Length);
        Assert.Equal(packed.numel() + qabsmax.numel() + absmax2.numel() + code.numel() + offset.numel(), saved.Sum(t => t.numel()));
        Assert.DoesNotContain(saved, t => t.is_floating_point() && t.numel() >= outF * inF);
        var savedBytes = saved.Sum(t => t.numel() * t.ElementSize);
        Assert.True(savedBytes < outF * inF * 4 / 7, $"saved {savedBytes} bytes");
    }

    [Fact]
    public void LinearInt8_AutogradNodeSavesOnlyTheQuantizedTensors()
    {
        manual_seed(8);
        using var w = randn(32, 48);
        using var scope = NewDisposeScope();
        var (q, stats) = bitsandbytes.int8_vectorwise_quant(w);
        var x = randn(2, 48).requires_grad_(true);
        var saved = bitsandbytes.SavedTensors(bitsandbytes.linear_int8(x, q, stats));
        Assert.Equal([ScalarType.Int8, ScalarType.Float32], saved.Select(t => t.dtype));
        Assert.Equal([32 * 48L, 32L], saved.Select(t => t.numel()));
    }

    [Fact]
    public void Linear4bit_BiasRequiringGrad_GetsSumOfOutputGradient()
    {
        manual_seed(9);
        using var w = randn(8, 32);
        using var scope = NewDisposeScope();
        var (packed, absmax) = bitsandbytes.quantize_4bit(w, 32);
        var bias = zeros(8).requires_grad_(true);
        var x = randn(5, 32);
        var g = randn(5, 8);
        bitsandbytes.linear_4bit(x, packed, absmax, 32, 8, 32, bias).backward(g);
        Assert.Equal(g.sum(0).data<float>(), bias.grad!.data<float>());
        Assert.False(packed.requires_grad);
        Assert.Null(absmax.grad);
    }

    [Fact]
    public void QuantizeForwardBackward_LiveTensorCountReturnsToBaseline()
    {
        manual_seed(10);
        using var w = randn(16, 64);
        var baseline = LiveCount.Settled();
        for (var i = 0; i < 5; i++)
        {
            using var scope = NewDisposeScope();
            var (packed, absmax) = bitsandbytes.quantize_4bit(w, 64);
            var (q, stats) = bitsandbytes.int8_vectorwise_quant(w);
            var x = randn(3, 64).requires_grad_(true);
            var y = bitsandbytes.linear_4bit(x, packed, absmax, 64, 16, 64);
            Assert.Equal(2, bitsandbytes.SavedTensors(y).Length);
            (y.sum() + bitsandbytes.linear_int8(x, q, stats).sum()).backward();
        }
        Assert.Equal(baseline, LiveCount.Settled());
    }
}
