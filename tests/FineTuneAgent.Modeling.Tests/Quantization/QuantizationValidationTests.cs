using FineTuneAgent.Modeling.Quantization;
using FineTuneAgent.Torch;
using FineTuneAgent.Torch.Modules;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Tests.Quantization;

/// <summary>Bad inputs fail with errors that name the argument.</summary>
public class QuantizationValidationTests
{
    [Theory]
    [InlineData(16)]
    [InlineData(48)]
    [InlineData(8192)]
    [InlineData(0)]
    public void Nf4Quantize_BlocksizeNotAPowerOfTwoIn32To4096_ThrowsNamingBlocksize(int blocksize)
    {
        using var w = randn(8, 8);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Nf4Quantizer.Quantize(w, blocksize));
        Assert.Equal("blocksize", e.ParamName);
    }

    [Fact]
    public void NativeQuantize_BadBlocksize_ThrowsArgumentErrorNamingBlocksize()
    {
        using var w = randn(8, 8);
        var e = Assert.Throws<TorchArgumentException>(() => ops.bitsandbytes.quantize_4bit(w, 100));
        Assert.Contains("blocksize must be one of 32, 64", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ScalarType.Int64)]
    [InlineData(ScalarType.Int32)]
    [InlineData(ScalarType.Byte)]
    public void Quantize_IntegerWeight_ThrowsNamingWeight(ScalarType dtype)
    {
        using var w = ones([4, 64], dtype);
        var nf4 = Assert.Throws<ArgumentException>(() => Nf4Quantizer.Quantize(w));
        Assert.Equal("weight", nf4.ParamName);
        Assert.Contains(dtype.ToString(), nf4.Message, StringComparison.Ordinal);
        var int8 = Assert.Throws<ArgumentException>(() => Int8RowwiseQuantizer.Quantize(w));
        Assert.Equal("weight", int8.ParamName);
    }

    [Fact]
    public void NativeQuantize_IntegerInput_ThrowsArgumentErrorNamingInput()
    {
        using var w = ones([4, 64], ScalarType.Int64);
        var e = Assert.Throws<TorchArgumentException>(() => ops.bitsandbytes.quantize_4bit(w));
        Assert.Contains("input must be float32, bfloat16 or float16", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new long[] { 64 })]
    [InlineData(new long[] { 2, 4, 64 })]
    public void Linears_NonTwoDimensionalWeight_ThrowNamingWeight(long[] shape)
    {
        using var w = randn(shape);
        Assert.Equal("weight", Assert.Throws<ArgumentException>(() => new Nf4Linear(w)).ParamName);
        Assert.Equal("weight", Assert.Throws<ArgumentException>(() => new Int8Linear(w)).ParamName);
        Assert.Equal("weight", Assert.Throws<ArgumentException>(() => Int8RowwiseQuantizer.Quantize(w)).ParamName);
    }

    [Fact]
    public void Linears_BiasOfWrongLength_ThrowNamingBias()
    {
        using var w = randn(8, 64);
        using var b = randn(7);
        Assert.Equal("bias", Assert.Throws<ArgumentException>(() => new Nf4Linear(w, b)).ParamName);
        Assert.Equal("bias", Assert.Throws<ArgumentException>(() => new Int8Linear(w, b)).ParamName);
    }

    [Fact]
    public void Forward_InputOfWrongWidthOrIntegerDtype_ThrowsNamingInput()
    {
        manual_seed(0);
        using var source = new Linear(64, 8);
        using var nf4 = new Nf4Linear(source);
        using var int8 = new Int8Linear(source);
        using var wide = randn(2, 65);
        using var ints = ones([2, 64], ScalarType.Int64);
        foreach (nn.Module<Tensor, Tensor> layer in new nn.Module<Tensor, Tensor>[] { nf4, int8 })
        {
            Assert.Contains("input's last dimension must equal in_features (64)", Assert.Throws<TorchArgumentException>(() => layer.call(wide)).Message,
                StringComparison.Ordinal);
            Assert.Contains("input must be float32", Assert.Throws<TorchArgumentException>(() => layer.call(ints)).Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Dequantize4bit_StateOfWrongSize_ThrowsNamingTheTensor()
    {
        using var w = randn(4, 64);
        var (packed, absmax) = ops.bitsandbytes.quantize_4bit(w);
        using (packed)
        using (absmax)
        {
            var e = Assert.Throws<TorchArgumentException>(() => ops.bitsandbytes.dequantize_4bit(packed, absmax, 64, "nf4", [4, 66], ScalarType.Float32));
            Assert.Contains("packed", e.Message, StringComparison.Ordinal);
            Assert.Throws<TorchNotSupportedException>(() => ops.bitsandbytes.dequantize_4bit(packed, absmax, 64, "fp4", [4, 64], ScalarType.Float32));
        }
    }
}
