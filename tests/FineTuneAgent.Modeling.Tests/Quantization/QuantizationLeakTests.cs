using FineTuneAgent.Modeling.Quantization;
using FineTuneAgent.Torch;
using FineTuneAgent.Torch.Modules;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Tests.Quantization;

/// <summary>The live-tensor counter is process-wide: these tests run alone, after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LiveTensorCollection
{
    public const string Name = "live tensor count";
}

[Collection(LiveTensorCollection.Name)]
public class QuantizationLeakTests
{
    private static long Settled()
    {
        for (var i = 0; i < 2; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        return Tensor.TotalCount;
    }

    [Fact]
    public void QuantizeForwardBackwardDispose_LiveTensorCountReturnsToBaseline()
    {
        manual_seed(0);
        var baseline = Settled();
        for (var step = 0; step < 3; step++)
        {
            using var source = new Linear(128, 64);
            using var nf4 = new Nf4Linear(source);
            using var int8 = new Int8Linear(source);
            using var w = nf4.Dequantize();
            using var scope = NewDisposeScope();
            var x = randn(4, 128).requires_grad_(true);
            (nf4.call(x).sum() + int8.call(x).sum()).backward();
        }
        Assert.Equal(baseline, Settled());
    }

    [Fact]
    public void Quantizer_OwnsExactlyItsStateTensors()
    {
        manual_seed(0);
        using var weight = randn(64, 64);
        var baseline = Settled();
        using (var q = Nf4Quantizer.Quantize(weight))
            Assert.Equal(baseline + 5, Tensor.TotalCount);  // packed, absmax codes, nested absmax, map, offset
        using (var q = Nf4Quantizer.Quantize(weight, doubleQuant: false))
            Assert.Equal(baseline + 2, Tensor.TotalCount);
        using (var q = Int8RowwiseQuantizer.Quantize(weight))
            Assert.Equal(baseline + 2, Tensor.TotalCount);
        Assert.Equal(baseline, Settled());
    }
}
