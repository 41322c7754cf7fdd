using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Quantization;

/// <summary>
/// A weight stored as NF4 (bitsandbytes' QuantState for quant_type "nf4"): codes packed two per
/// byte, first element in the high nibble, and one absmax per block — float32, or with double
/// quantization uint8 codes of (absmax − offset) under the 256-entry <see cref="DynamicMap"/>
/// with one float32 scale per 256 codes. Owns its tensors (a module it is given to owns them
/// instead) and never holds the weight in full precision.
/// </summary>
public sealed class Nf4Weight : IDisposable
{
    private readonly long[] _shape;

    internal Nf4Weight(Tensor packed, Tensor absmax, long[] shape, ScalarType dtype, int blocksize,
        Tensor? nestedAbsmax = null, Tensor? nestedCode = null, Tensor? nestedOffset = null, int nestedBlocksize = NormalFloat4.NestedBlocksize)
    {
        Packed = packed;
        Absmax = absmax;
        _shape = shape;
        DType = dtype;
        Blocksize = blocksize;
        NestedAbsmax = nestedAbsmax;
        NestedCode = nestedCode;
        NestedOffset = nestedOffset;
        NestedBlocksize = nestedBlocksize;
    }

    /// <summary>
    /// An NF4 weight from stored tensors (a quantized-base cache, a checkpoint), checked against
    /// the shape and block sizes; takes ownership of the tensors.
    /// </summary>
    public static Nf4Weight FromStorage(Tensor packed, Tensor absmax, long[] shape, ScalarType dtype, int blocksize,
        Tensor? nestedAbsmax = null, Tensor? nestedCode = null, Tensor? nestedOffset = null)
    {
        ArgumentNullException.ThrowIfNull(packed);
        ArgumentNullException.ThrowIfNull(absmax);
        if (!NormalFloat4.Blocksizes.Contains(blocksize))
            throw new ArgumentException($"blocksize {blocksize} is not one of {string.Join(", ", NormalFloat4.Blocksizes)}", nameof(blocksize));
        var n = shape.Aggregate(1L, (a, b) => a * b);
        var blocks = (n + blocksize - 1) / blocksize;
        if (packed.dtype != ScalarType.Byte || packed.numel() != (n + 1) / 2)
            throw new ArgumentException($"packed must be uint8 with {(n + 1) / 2} elements for shape [{string.Join(", ", shape)}], got {packed.dtype} with {packed.numel()}", nameof(packed));
        if (absmax.numel() != blocks)
            throw new ArgumentException($"absmax must have {blocks} elements (one per block of {blocksize}), got {absmax.numel()}", nameof(absmax));
        var nested = nestedAbsmax is not null;
        if (nested != (nestedCode is not null) || nested != (nestedOffset is not null))
            throw new ArgumentException("double quantization needs nested absmax, code and offset together", nameof(nestedAbsmax));
        if (nested && (absmax.dtype != ScalarType.Byte || nestedCode!.numel() != 256 || nestedAbsmax!.numel() != (blocks + NormalFloat4.NestedBlocksize - 1) / NormalFloat4.NestedBlocksize))
            throw new ArgumentException("the nested quantization state does not fit the absmax codes", nameof(nestedAbsmax));
        if (!nested && absmax.dtype != ScalarType.Float32)
            throw new ArgumentException($"absmax must be float32 without double quantization, got {absmax.dtype}", nameof(absmax));
        return new Nf4Weight(packed, absmax, shape, dtype, blocksize, nestedAbsmax, nestedCode, nestedOffset);
    }

    /// <summary>uint8 [(n + 1) / 2, 1]: element 2j in the high nibble of byte j, 2j + 1 in the low one.</summary>
    public Tensor Packed { get; }

    /// <summary>Per block: float32 absmax, or with double quantization its uint8 code.</summary>
    public Tensor Absmax { get; }

    /// <summary>Double quantization: float32 absmax of each block of 256 absmax codes.</summary>
    public Tensor? NestedAbsmax { get; }

    /// <summary>Double quantization: the 256-entry float32 code of the absmax values.</summary>
    public Tensor? NestedCode { get; }

    /// <summary>Double quantization: the float32 mean subtracted from the absmax values (a 0-d tensor).</summary>
    public Tensor? NestedOffset { get; }

    public int Blocksize { get; }

    public int NestedBlocksize { get; }

    public bool DoubleQuantized => NestedAbsmax is not null;

    /// <summary>The shape of the original weight.</summary>
    public IReadOnlyList<long> Shape => _shape;

    /// <summary>The dtype of the original weight, the default of <see cref="Dequantize"/>.</summary>
    public ScalarType DType { get; }

    /// <summary>Every tensor this weight consists of.</summary>
    public IEnumerable<Tensor> Tensors
    {
        get
        {
            yield return Packed;
            yield return Absmax;
            if (NestedAbsmax is not null) yield return NestedAbsmax;
            if (NestedCode is not null) yield return NestedCode;
            if (NestedOffset is not null) yield return NestedOffset;
        }
    }

    /// <summary>Bytes held by the tensors (elements × element size, summed).</summary>
    public long StorageBytes => Tensors.Sum(t => t.numel() * t.ElementSize);

    internal ops.bitsandbytes.NestedQuantState? Nested =>
        NestedAbsmax is null ? null : new(NestedAbsmax, NestedCode!, NestedOffset!, NestedBlocksize);

    /// <summary>The weight in dtype (default: the original dtype); a new tensor the caller owns.</summary>
    public Tensor Dequantize(ScalarType? dtype = null) =>
        ops.bitsandbytes.dequantize_4bit(Packed, Absmax, Blocksize, "nf4", _shape, dtype ?? DType, Nested);

    /// <summary>
    /// Takes over <paramref name="other"/>'s data in place (each tensor keeps its identity, so
    /// modules that registered them see the new values) and disposes it. Used to requantize after
    /// merging an adapter into the weight.
    /// </summary>
    internal void ReplaceWith(Nf4Weight other)
    {
        try
        {
            if (!other.Shape.SequenceEqual(Shape) || other.Blocksize != Blocksize || other.DoubleQuantized != DoubleQuantized)
                throw new ArgumentException("the replacement must have the same shape, blocksize and double quantization", nameof(other));
            using var _ = no_grad();
            foreach (var (mine, theirs) in Tensors.Zip(other.Tensors))
                mine.set_(theirs);
        }
        finally
        {
            other.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var t in Tensors)
            t.Dispose();
    }
}
