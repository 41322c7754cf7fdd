using FineTuneAgent.Modeling.Quantization;
using FineTuneAgent.Torch;
using FineTuneAgent.Torch.Modules;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Tests.Quantization;

/// <summary>Nf4Linear / Int8Linear against F.linear with an independently dequantized weight.</summary>
public class Nf4LinearTests
{
    private static void AssertClose(Tensor expected, Tensor actual, double tolerance)
    {
        Assert.Equal(expected.shape, actual.shape);
        var e = expected.ToArray<float>();
        var a = actual.ToArray<float>();
        for (var i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= tolerance * Math.Max(1, Math.Abs(e[i])), $"element {i}: {e[i]} vs {a[i]}");
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public void Forward_EqualsLinearWithReconstructedWeight_AndGradOfInputMatches(bool doubleQuant, bool hasBias)
    {
        manual_seed(11);
        using var scope = NewDisposeScope();
        using var source = new Linear(96, 40, hasBias);
        using var layer = new Nf4Linear(source, blocksize: 64, doubleQuant: doubleQuant);
        var w = QuantReference.ToTensor(QuantReference.Dequantize(layer.QuantizedWeight), [40, 96]);

        var x = randn(3, 5, 96).requires_grad_(true);
        var y = layer.call(x);
        var xr = x.detach().clone().requires_grad_(true);
        var yr = nn.functional.linear(xr, w, source.bias?.detach());
        AssertClose(yr, y, 1e-5);

        var g = randn(3, 5, 40);
        y.backward(g);
        yr.backward(g);
        AssertClose(xr.grad!, x.grad!, 1e-5);
    }

    [Fact]
    public void Backward_QuantizedBuffersAndFrozenBiasGetNoGradient()
    {
        manual_seed(12);
        using var scope = NewDisposeScope();
        using var source = new Linear(64, 32);
        using var layer = new Nf4Linear(source);
        var x = randn(4, 64).requires_grad_(true);
        layer.call(x).sum().backward();
        Assert.NotNull(x.grad);
        Assert.False(layer.bias!.requires_grad);
        Assert.Null(layer.bias.grad);
        Assert.All(layer.buffers(), b => Assert.False(b.requires_grad));
        Assert.All(layer.buffers(), b => Assert.Null(b.grad));
    }

    [Fact]
    public void Forward_BFloat16Input_ComputesInBFloat16()
    {
        manual_seed(13);
        using var scope = NewDisposeScope();
        using var source = new Linear(64, 48, dtype: ScalarType.BFloat16);
        using var layer = new Nf4Linear(source);
        Assert.Equal(ScalarType.BFloat16, layer.ComputeDType);
        Assert.Equal(ScalarType.BFloat16, layer.bias!.dtype);
        var w = QuantReference.ToTensor(QuantReference.Dequantize(layer.QuantizedWeight), [48, 64]).to_type(ScalarType.BFloat16);
        var x = randn([2, 64], ScalarType.BFloat16);
        var y = layer.call(x);
        Assert.Equal(ScalarType.BFloat16, y.dtype);
        Assert.Equal(nn.functional.linear(x, w, layer.bias).bytes, y.bytes);
    }

    [Fact]
    public void Dequantize_EqualsReconstructionAndIsCloseToTheSourceWeight()
    {
        manual_seed(14);
        using var scope = NewDisposeScope();
        using var source = new Linear(128, 64, hasBias: false);
        using var layer = new Nf4Linear(source);
        var w = layer.Dequantize();
        Assert.Equal(new long[] { 64, 128 }, w.shape);
        Assert.Equal(QuantReference.Dequantize(layer.QuantizedWeight), w.data<float>());
        Assert.Equal(64, layer.out_features);
        Assert.Equal(128, layer.in_features);
    }

    [Fact]
    public void Int8Linear_ForwardAndGradEqualLinearWithReconstructedWeight()
    {
        manual_seed(15);
        using var scope = NewDisposeScope();
        using var source = new Linear(50, 20);
        using var layer = new Int8Linear(source);
        var q = layer.QuantizedWeight;
        var deq = QuantReference.DequantizeInt8(q.Data.data<sbyte>(), q.RowStats.data<float>(), 50);
        var w = tensor(deq.Select(v => (float)v).ToArray(), [20, 50]);

        var x = randn(6, 50).requires_grad_(true);
        var y = layer.call(x);
        var xr = x.detach().clone().requires_grad_(true);
        var yr = nn.functional.linear(xr, w, source.bias!.detach());
        AssertClose(yr, y, 1e-5);
        var g = randn(6, 20);
        y.backward(g);
        yr.backward(g);
        AssertClose(xr.grad!, x.grad!, 1e-5);
        Assert.All(layer.buffers(), b => Assert.Null(b.grad));
    }

    [Fact]
    public void Construct_FromWeightTensor_QuantizesWithoutKeepingIt()
    {
        manual_seed(16);
        using var scope = NewDisposeScope();
        var weight = randn(32, 64);
        var bias = randn(32);
        using var layer = new Nf4Linear(weight, bias, blocksize: 32);
        Assert.Equal(32, layer.QuantizedWeight.Blocksize);
        // The bias is a copy: changing the original does not reach the layer.
        var before = layer.bias!.data<float>();
        bias.add_(1);
        Assert.Equal(before, layer.bias.data<float>());
    }

    [Fact]
    public void ModuleToBFloat16_CastsBiasAndConstants_ForwardStillCloseToFloat32()
    {
        manual_seed(17);
        using var scope = NewDisposeScope();
        using var source = new Linear(64, 16);
        using var layer = new Nf4Linear(source);
        var x = randn(3, 64);
        var before = layer.call(x);
        layer.to(ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, layer.bias!.dtype);
        Assert.Equal(ScalarType.Byte, layer.QuantizedWeight.Packed.dtype);
        var after = layer.call(x.to_type(ScalarType.BFloat16));
        Assert.Equal(ScalarType.BFloat16, after.dtype);
        // bf16 keeps 8 significant bits: the constants and the product lose about 1 %.
        AssertClose(before, after.to_type(ScalarType.Float32), 0.05);
    }

    [Fact]
    public void StateDict_SavedAndLoadedIntoAnotherLayer_GivesTheSameOutput()
    {
        manual_seed(18);
        using var scope = NewDisposeScope();
        using var a = new Nf4Linear(randn(16, 64), randn(16));
        using var b = new Nf4Linear(randn(16, 64), randn(16));
        var path = Path.Combine(Path.GetTempPath(), $"fta-nf4-{Guid.NewGuid():N}.safetensors");
        try
        {
            Safetensors.Save(path, a.state_dict());
            var loaded = Safetensors.Load(path);
            b.load_state_dict(loaded);
            foreach (var t in loaded.Values)
                t.Dispose();
        }
        finally
        {
            File.Delete(path);
        }
        var x = randn(2, 64);
        Assert.Equal(a.call(x).bytes, b.call(x).bytes);
    }
}
