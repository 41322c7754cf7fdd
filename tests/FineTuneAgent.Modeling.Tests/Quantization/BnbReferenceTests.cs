using FineTuneAgent.Modeling.Quantization;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Tests.Quantization;

/// <summary>Our quantizers against tests/compat/bnb_reference.py, byte for byte.</summary>
public class BnbReferenceTests(BnbReferenceFixture reference) : IClassFixture<BnbReferenceFixture>
{
    public static TheoryData<string> Nf4Cases => new() { "f32_partial", "f32_odd", "bf16_partial", "f16_nested", "f32_zero_block", "f32_large_block" };

    private int Blocksize(string name) => int.Parse(reference.How[name]["nf4:".Length..], System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [MemberData(nameof(Nf4Cases))]
    public void Quantize_WithoutDoubleQuant_PackedAndAbsmaxEqualReference(string name)
    {
        using var w = Nf4Quantizer.Quantize(reference.Inputs[name], Blocksize(name), doubleQuant: false);
        Assert.Equal(reference.Outputs[$"{name}.packed"].shape, w.Packed.shape);
        Assert.Equal(reference.Outputs[$"{name}.packed"].bytes, w.Packed.bytes);
        Assert.Equal(reference.Outputs[$"{name}.absmax"].bytes, w.Absmax.bytes);
    }

    [Theory]
    [MemberData(nameof(Nf4Cases))]
    public void Quantize_WithDoubleQuant_AllStateEqualsReference(string name)
    {
        using var w = Nf4Quantizer.Quantize(reference.Inputs[name], Blocksize(name), doubleQuant: true);
        Assert.Equal(reference.Outputs[$"{name}.packed"].bytes, w.Packed.bytes);
        Assert.Equal(ScalarType.Byte, w.Absmax.dtype);
        Assert.Equal(reference.Outputs[$"{name}.qabsmax"].bytes, w.Absmax.bytes);
        Assert.Equal(reference.Outputs[$"{name}.absmax2"].bytes, w.NestedAbsmax!.bytes);
        Assert.Equal(reference.Outputs[$"{name}.offset"].bytes, w.NestedOffset!.bytes);
        Assert.Equal(reference.Outputs["dynamic_map"].bytes, w.NestedCode!.bytes);
    }

    [Theory]
    [MemberData(nameof(Nf4Cases))]
    public void Dequantize_WithDoubleQuant_EqualsReferenceBitForBit(string name)
    {
        using var w = Nf4Quantizer.Quantize(reference.Inputs[name], Blocksize(name));
        using var ours = w.Dequantize(ScalarType.Float32);
        Assert.Equal(reference.Inputs[name].shape, ours.shape);
        Assert.Equal(reference.Outputs[$"{name}.dequant"].bytes, ours.bytes);
    }

    [Fact]
    public void Quantize_NestedCase_SpansTwoNestedBlocksTheLastPartial()
    {
        using var w = Nf4Quantizer.Quantize(reference.Inputs["f16_nested"], 64);
        Assert.Equal(305, w.Absmax.numel());
        Assert.Equal(2, w.NestedAbsmax!.numel());
        Assert.Equal(new long[] { (300 * 65 + 1) / 2, 1 }, w.Packed.shape);
    }

    [Theory]
    [InlineData("int8_f32")]
    [InlineData("int8_bf16")]
    public void Int8Quantize_EqualsReference(string name)
    {
        using var w = Int8RowwiseQuantizer.Quantize(reference.Inputs[name]);
        Assert.Equal(ScalarType.Int8, w.Data.dtype);
        Assert.Equal(reference.Outputs[$"{name}.q"].bytes, w.Data.bytes);
        Assert.Equal(reference.Outputs[$"{name}.row_stats"].bytes, w.RowStats.bytes);
    }

    [Fact]
    public void NormalFloat4_Values_EqualReferenceCode()
    {
        Assert.Equal(reference.Outputs["nf4_code"].data<float>(), NormalFloat4.Values);
    }

    [Fact]
    public void DynamicMap_Create_EqualsReferenceBitForBit()
    {
        Assert.Equal(reference.Outputs["dynamic_map"].data<float>(), DynamicMap.Create(signed: true));
    }
}
