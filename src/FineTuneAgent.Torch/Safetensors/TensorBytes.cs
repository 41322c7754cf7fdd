using System.Buffers;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Torch;

/// <summary>
/// Raw element bytes between files and tensors. Both directions assume a little-endian host,
/// which is what safetensors stores and what every platform libtorch runs on is.
/// </summary>
internal static class TensorBytes
{
    /// <summary>Above this, bytes are copied straight into a new tensor's storage, since a span cannot reach past 2 GiB. Tests lower it.</summary>
    internal static long MaxSpanCopyBytes { get; set; } = int.MaxValue;

    /// <summary>Tensors are written through a buffer of this size, so a 10 GB embedding never needs a 10 GB managed array. Tests lower it.</summary>
    internal static int WriteChunkBytes { get; set; } = 16 << 20;

    /// <summary>A new CPU tensor holding a copy of <paramref name="length"/> bytes at <paramref name="source"/>.</summary>
    public static unsafe Tensor ToTensor(byte* source, long length, ScalarType dtype, ReadOnlySpan<long> shape)
    {
        if (length <= MaxSpanCopyBytes)
            return frombuffer(new ReadOnlySpan<byte>(source, checked((int)length)), dtype, shape);
        var tensor = empty(shape.ToArray(), dtype);
        try
        {
            Buffer.MemoryCopy(source, (void*)tensor.data_ptr(), length, length);
            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes a tensor's elements, row-major, to the stream; any device, any strides. With
    /// <paramref name="storeAs"/>, each chunk is converted to that dtype just before it is written.
    /// </summary>
    public static void WriteTo(Stream stream, Tensor tensor, ScalarType? storeAs = null)
    {
        var count = tensor.numel();
        if (count == 0)
            return;
        var target = storeAs ?? tensor.dtype;
        var elementSize = (long)ElementSize(target);
        var total = count * elementSize;
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(total, Math.Max(WriteChunkBytes, elementSize)));
        try
        {
            // A flat view (a copy only when the tensor is not contiguous) so chunks are plain slices.
            using var flat = tensor.reshape(-1);
            var perChunk = buffer.Length / elementSize;
            for (long start = 0; start < count; start += perChunk)
            {
                var n = Math.Min(perChunk, count - start);
                using var part = flat.narrow(0, start, n);
                using var converted = part.dtype == target ? null : part.to_type(target);
                var span = buffer.AsSpan(0, (int)(n * elementSize));
                (converted ?? part).CopyBytesTo(span);
                stream.Write(span);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
