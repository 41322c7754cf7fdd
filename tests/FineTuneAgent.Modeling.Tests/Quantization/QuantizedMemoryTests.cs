using FineTuneAgent.Modeling.Quantization;
using FineTuneAgent.Torch;
using FineTuneAgent.Torch.Modules;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Tests.Quantization;

/// <summary>Bytes per weight of quantized linears, measured from the module's own tensors.</summary>
public class QuantizedMemoryTests
{
    private static double MeasuredBytesPerWeight(nn.Module module, long weights) =>
        module.buffers().Concat(module.parameters()).Sum(t => t.numel() * t.ElementSize) / (double)weights;

    [Fact]
    public void Nf4Linear_1024x1024WithDoubleQuant_HalfABytePerWeightPlusConstants()
    {
        manual_seed(0);
        using var source = new Linear(1024, 1024, hasBias: false);
        using var layer = new Nf4Linear(source);
        var perWeight = MeasuredBytesPerWeight(layer, 1024 * 1024);
        // 0.5 for the codes + 1/64 for uint8 absmax + nested float32 per 256 blocks + the 1 KiB map.
        Assert.InRange(perWeight, 0.5, 0.53);
        Assert.Equal(perWeight * 1024 * 1024, layer.QuantizedWeight.StorageBytes);
    }

    [Fact]
    public void Nf4Linear_WithoutDoubleQuant_FloatAbsmaxCostsHalfABitPerWeight()
    {
        manual_seed(0);
        using var source = new Linear(1024, 1024, hasBias: false);
        using var layer = new Nf4Linear(source, doubleQuant: false);
        // 0.5 + 4/64 = 0.5625 bytes per weight.
        Assert.InRange(MeasuredBytesPerWeight(layer, 1024 * 1024), 0.562, 0.563);
    }

    [Fact]
    public void Nf4Linear_Buffers_AreTheQuantizedTensorsOnly()
    {
        manual_seed(0);
        using var source = new Linear(256, 128);
        using var layer = new Nf4Linear(source);
        var buffers = layer.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        Assert.Equal(["weight", "weight_absmax", "weight_nested_absmax", "weight_nested_quant_map", "weight_nested_offset"], buffers.Keys);
        Assert.Equal(ScalarType.Byte, buffers["weight"].dtype);
        Assert.Equal(new long[] { 256 * 128 / 2, 1 }, buffers["weight"].shape);
        Assert.Equal(ScalarType.Byte, buffers["weight_absmax"].dtype);
        // No buffer or parameter holds out·in floating values.
        Assert.DoesNotContain(layer.buffers().Concat(layer.parameters()), t => t.is_floating_point() && t.numel() >= 256 * 128);
        Assert.Equal(["bias"], layer.named_parameters().Select(p => p.name));
    }

    [Fact]
    public void Int8Linear_OneBytePerWeightPlusRowStats()
    {
        manual_seed(0);
        using var source = new Linear(1024, 512, hasBias: false);
        using var layer = new Int8Linear(source);
        Assert.Equal(["weight", "SCB"], layer.named_buffers().Select(b => b.name));
        // 1 + 4/1024 bytes per weight.
        Assert.InRange(MeasuredBytesPerWeight(layer, 1024 * 512), 1.0039, 1.004);
    }
}
