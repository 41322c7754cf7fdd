using System.Runtime.InteropServices;
using FineTuneAgent.Torch.Interop;

namespace FineTuneAgent.Torch;

public static partial class torch
{
    public partial class Tensor
    {
        /// <summary>Checks a call's status and wraps the tensor it returned.</summary>
        internal static Tensor Result(int status, IntPtr handle)
        {
            Status.Check(status);
            return new Tensor(handle);
        }

        /// <summary>Copies the elements (row-major) into a new managed array; T must match dtype's size.</summary>
        public unsafe T[] data<T>() where T : unmanaged
        {
            var count = numel();
            var elementSize = ElementSize;
            if (sizeof(T) != elementSize)
                throw new TorchArgumentException($"cannot read {dtype} elements ({elementSize} bytes) as {typeof(T).Name} ({sizeof(T)} bytes)");
            var result = new T[count];
            fixed (T* p = result)
                Status.Check(TensorInterop.fta_tensor_copy_to_buffer(NativeHandle, p, count * elementSize));
            return result;
        }

        /// <summary>The elements as T, converted from the tensor's dtype.</summary>
        public T[] ToArray<T>() where T : unmanaged
        {
            var target = ScalarTypeOf<T>();
            if (target == dtype)
                return data<T>();
            using var converted = to_type(target);
            return converted.data<T>();
        }

        /// <summary>The raw little-endian bytes of the elements (row-major), as TorchSharp's `bytes`.</summary>
        public unsafe byte[] bytes
        {
            get
            {
                var nbytes = numel() * ElementSize;
                var result = new byte[nbytes];
                fixed (byte* p = result)
                    Status.Check(TensorInterop.fta_tensor_copy_to_buffer(NativeHandle, p, nbytes));
                return result;
            }
        }

        /// <summary>Writes the raw bytes of the elements into dst, which must be exactly numel * element size long.</summary>
        public unsafe void CopyBytesTo(Span<byte> dst)
        {
            fixed (byte* p = dst)
                Status.Check(TensorInterop.fta_tensor_copy_to_buffer(NativeHandle, p, dst.Length));
        }

        /// <summary>The value of a one-element tensor.</summary>
        public T item<T>() where T : unmanaged
        {
            if (typeof(T) == typeof(float) || typeof(T) == typeof(double) || typeof(T) == typeof(Half))
            {
                Status.Check(TensorInterop.fta_tensor_item_double(NativeHandle, out var d));
                if (typeof(T) == typeof(float))
                    return (T)(object)(float)d;
                if (typeof(T) == typeof(Half))
                    return (T)(object)(Half)d;
                return (T)(object)d;
            }
            Status.Check(TensorInterop.fta_tensor_item_int64(NativeHandle, out var l));
            if (typeof(T) == typeof(long))
                return (T)(object)l;
            if (typeof(T) == typeof(int))
                return (T)(object)checked((int)l);
            if (typeof(T) == typeof(bool))
                return (T)(object)(l != 0);
            if (typeof(T) == typeof(byte))
                return (T)(object)checked((byte)l);
            if (typeof(T) == typeof(sbyte))
                return (T)(object)checked((sbyte)l);
            if (typeof(T) == typeof(short))
                return (T)(object)checked((short)l);
            throw new NotSupportedException($"item<{typeof(T).Name}> is not supported");
        }

        public double ToDouble() => item<double>();

        public float ToSingle() => item<float>();

        public long ToInt64() => item<long>();
    }

    /// <summary>The dtype whose elements have the managed type T.</summary>
    public static ScalarType ScalarTypeOf<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return ScalarType.Float32;
        if (typeof(T) == typeof(double)) return ScalarType.Float64;
        if (typeof(T) == typeof(Half)) return ScalarType.Float16;
        if (typeof(T) == typeof(long)) return ScalarType.Int64;
        if (typeof(T) == typeof(int)) return ScalarType.Int32;
        if (typeof(T) == typeof(short)) return ScalarType.Int16;
        if (typeof(T) == typeof(sbyte)) return ScalarType.Int8;
        if (typeof(T) == typeof(byte)) return ScalarType.Byte;
        if (typeof(T) == typeof(bool)) return ScalarType.Bool;
        throw new NotSupportedException($"no dtype for managed type {typeof(T).Name}");
    }

    /// <summary>A new CPU tensor holding a copy of the values, shaped as given (default: 1-D).</summary>
    public static Tensor tensor<T>(ReadOnlySpan<T> values, ReadOnlySpan<long> shape = default, ScalarType? dtype = null, Device? device = null, bool requires_grad = false)
        where T : unmanaged
    {
        var natural = ScalarTypeOf<T>();
        Span<long> oneDim = [values.Length];
        var dims = shape.IsEmpty && values.Length > 0 ? oneDim : shape;
        if (shape.IsEmpty && values.Length == 0)
            dims = [0];
        var t = frombuffer(MemoryMarshal.AsBytes(values), natural, dims);
        return Finish(t, dtype, device, requires_grad);
    }

    public static Tensor tensor<T>(T[] values, ReadOnlySpan<long> shape = default, ScalarType? dtype = null, Device? device = null, bool requires_grad = false)
        where T : unmanaged => tensor<T>(values.AsSpan(), shape, dtype, device, requires_grad);

    public static Tensor tensor<T>(T[,] values, ScalarType? dtype = null, Device? device = null, bool requires_grad = false)
        where T : unmanaged
    {
        var flat = MemoryMarshal.CreateReadOnlySpan(ref values[0, 0], values.Length);
        return tensor(flat, [values.GetLength(0), values.GetLength(1)], dtype, device, requires_grad);
    }

    /// <summary>A 0-dimensional tensor.</summary>
    public static Tensor tensor(double value, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requires_grad = false)
    {
        using var t = tensor<double>([value], [], null, null, false);
        using var s = t.reshape();
        return Finish(s.to_type(dtype), null, device, requires_grad);
    }

    /// <summary>
    /// A new CPU tensor of the given dtype and shape whose elements are a copy of the raw bytes
    /// (little-endian, row-major). The byte count must match exactly.
    /// </summary>
    public static unsafe Tensor frombuffer(ReadOnlySpan<byte> bytes, ScalarType dtype, ReadOnlySpan<long> shape)
    {
        fixed (byte* src = bytes)
        fixed (long* s = shape)
            return Tensor.Result(TensorInterop.fta_tensor_from_buffer(src, bytes.Length, s, shape.Length, (int)dtype, out var r), r);
    }

    private static Tensor Finish(Tensor t, ScalarType? dtype, Device? device, bool requires_grad)
    {
        var current = t;
        if (dtype is { } d && d != current.dtype)
        {
            var converted = current.to_type(d);
            current.Dispose();
            current = converted;
        }
        if (device is not null && device.type != DeviceType.CPU)
        {
            var moved = current.to(device);
            current.Dispose();
            current = moved;
        }
        if (requires_grad)
            current.requires_grad_(true);
        return current;
    }
}
