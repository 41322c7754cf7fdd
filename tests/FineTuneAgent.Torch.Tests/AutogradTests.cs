namespace FineTuneAgent.Torch.Tests;

public class AutogradTests
{
    [Fact]
    public void NoGrad_StopsRecording_AndRestoresOnDispose()
    {
        using var x = ones([2], requires_grad: true);
        Assert.True(is_grad_enabled());
        using (no_grad())
        {
            Assert.False(is_grad_enabled());
            using var y = x * 2;
            Assert.False(y.requires_grad);
            using (enable_grad())
            {
                using var z = x * 2;
                Assert.True(z.requires_grad);
            }
            Assert.False(is_grad_enabled());
        }
        Assert.True(is_grad_enabled());
    }

    [Fact]
    public void AutogradGrad_ReturnsGradientsWithoutTouchingDotGrad()
    {
        using var x = tensor(new[] { 1.0, 2.0 }, requires_grad: true);
        using var y = tensor(new[] { 3.0 }, requires_grad: true);
        using var unused = tensor(new[] { 5.0 }, requires_grad: true);
        using var f = (x * x).sum() * y;            // df/dx = 2xy, df/dy = sum(x²)
        var grads = autograd.grad([f], [x, y, unused], allow_unused: true);
        Assert.Equal([6.0, 12.0], grads[0]!.data<double>());
        Assert.Equal([5.0], grads[1]!.data<double>());
        Assert.Null(grads[2]);
        Assert.Null(x.grad);
        foreach (var g in grads)
            g?.Dispose();
    }

    [Fact]
    public void AutogradGrad_CreateGraph_GivesSecondDerivative()
    {
        using var x = tensor(new[] { 3.0 }, requires_grad: true);
        using var f = x.pow(3).sum();
        var first = autograd.grad([f], [x], create_graph: true)[0]!;   // 3x² = 27
        using (first)
        {
            Assert.Equal(27.0, first.item<double>());
            using var s = first.sum();
            var second = autograd.grad([s], [x])[0]!;                    // 6x = 18
            using (second)
                Assert.Equal(18.0, second.item<double>());
        }
    }

    [Fact]
    public void Backward_AccumulatesIntoGrad_AndDetachCutsTheGraph()
    {
        using var x = tensor(new[] { 2.0f }, requires_grad: true);
        for (var i = 0; i < 2; i++)
        {
            using var y = x * x;
            y.backward(ones(1));
        }
        using (var g = x.grad!)
            Assert.Equal(8f, g.item<float>());
        x.grad = null;
        Assert.Null(x.grad);
        using var d = x.detach();
        Assert.False(d.requires_grad);
        Assert.True(d.is_leaf);
    }

    [Fact]
    public void Autocast_Cpu_RunsLinearInBFloat16_AndRestoresAfterwards()
    {
        using var x = randn(4, 8);
        using var w = randn(3, 8);
        using (autocast(DeviceType.CPU))
        {
            Assert.True(is_autocast_enabled(DeviceType.CPU));
            Assert.Equal(ScalarType.BFloat16, get_autocast_dtype(DeviceType.CPU));
            using var y = nn.functional.linear(x, w);
            Assert.Equal(ScalarType.BFloat16, y.dtype);
            using var exact = nn.functional.linear(x.to_type(ScalarType.Float64), w.to_type(ScalarType.Float64));
            using var yd = y.to_type(ScalarType.Float64);
            Assert.True(yd.allclose(exact, rtol: 2e-2, atol: 5e-2));
        }
        Assert.False(is_autocast_enabled(DeviceType.CPU));
        using var z = nn.functional.linear(x, w);
        Assert.Equal(ScalarType.Float32, z.dtype);
    }

    [Fact]
    public void Autocast_CpuWithFloat16_IsRejected()
    {
        Assert.Throws<TorchArgumentException>(() => autocast(DeviceType.CPU, ScalarType.Float16));
        Assert.False(is_autocast_enabled(DeviceType.CPU));
    }
}
