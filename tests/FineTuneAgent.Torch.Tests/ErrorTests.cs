namespace FineTuneAgent.Torch.Tests;

/// <summary>libtorch failures become typed exceptions carrying libtorch's message; the process goes on.</summary>
public class ErrorTests
{
    [Fact]
    public void Matmul_ShapeMismatch_ThrowsWithLibtorchMessage_AndNextOpWorks()
    {
        using var a = ones(2, 3);
        using var b = ones(4, 5);
        var e = Assert.ThrowsAny<TorchException>(() => a.matmul(b));
        Assert.Contains("mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)", e.Message);
        Assert.DoesNotContain("Exception raised from", e.Message);   // no C++ backtrace noise
        using var c = a.matmul(a.t());
        Assert.Equal([3f, 3, 3, 3], c.data<float>());
    }

    [Fact]
    public void Select_IndexOutOfRange_ThrowsArgumentException()
    {
        using var a = ones(2, 3);
        var e = Assert.Throws<TorchArgumentException>(() => a.select(0, 5));
        Assert.Contains("out of range", e.Message);
        Assert.False(e.IsOutOfMemory);
    }

    [Fact]
    public void View_IncompatibleSize_ThrowsWithShapeInMessage()
    {
        using var a = ones(2, 3);
        var e = Assert.ThrowsAny<TorchException>(() => a.view(4, 2));
        Assert.Contains("[4, 2]", e.Message);
    }

    [Fact]
    public void Backward_TwiceWithoutRetainGraph_Throws_ThenRetainedGraphWorks()
    {
        using var x = ones([2], requires_grad: true);
        using var y = (x * x).sum();
        y.backward();
        Assert.ThrowsAny<TorchException>(() => y.backward());
        using var z = (x * 3).sum();
        z.backward(retain_graph: true);
        z.backward();
        using var g = x.grad!;
        Assert.Equal([2f + 6, 2f + 6], g.data<float>());
    }

    [Fact]
    public void Data_WrongElementType_IsRejected()
    {
        using var a = ones(2);
        Assert.Throws<TorchArgumentException>(() => a.data<long>());
    }

    [Fact]
    public void FromBuffer_ByteCountMismatch_IsRejected()
    {
        var e = Assert.Throws<TorchArgumentException>(() => frombuffer(new byte[6], ScalarType.Float32, [2]));
        Assert.Contains("6 bytes", e.Message);
    }

    [Fact]
    public void DisposedTensor_UseThrowsObjectDisposed()
    {
        var a = ones(2);
        a.Dispose();
        Assert.Throws<ObjectDisposedException>(() => a.sum());
    }

    [Fact]
    public void Cuda_OnCpuOnlyBuild_ReportsNoDevices_AndMemoryQueryIsNotSupported()
    {
        if (cuda.is_built())
            return; // a CUDA build: nothing to check here
        Assert.False(cuda.is_available());
        Assert.Equal(0, cuda.device_count());
        var e = Assert.Throws<TorchNotSupportedException>(() => cuda.memory_allocated());
        Assert.Contains("TORCH_DIR", e.Message, StringComparison.Ordinal);
        var rng = Assert.Throws<TorchNotSupportedException>(() => cuda.get_rng_state());
        Assert.Contains("cuda:0", rng.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Device_UnknownName_IsRejected()
    {
        Assert.Throws<ArgumentException>(() => new Device("tpu:0"));
        Assert.Equal("cuda:1", new Device("cuda:1").ToString());
        Assert.Equal(DeviceType.CPU, new Device("cpu").type);
    }
}
