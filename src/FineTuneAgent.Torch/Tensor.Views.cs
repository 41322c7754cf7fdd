using FineTuneAgent.Torch.Interop;

namespace FineTuneAgent.Torch;

public static partial class torch
{
    public unsafe partial class Tensor
    {
        private delegate int ShapeFn(TensorHandle t, long* shape, long ndim, out IntPtr result);

        private Tensor WithShape(ShapeFn fn, ReadOnlySpan<long> shape)
        {
            fixed (long* p = shape)
                return Result(fn(NativeHandle, p, shape.Length, out var r), r);
        }

        public Tensor view(params long[] shape) => WithShape(TensorInterop.fta_tensor_view, shape);

        public Tensor reshape(params long[] shape) => WithShape(TensorInterop.fta_tensor_reshape, shape);

        public Tensor permute(params long[] dims) => WithShape(TensorInterop.fta_tensor_permute, dims);

        public Tensor expand(params long[] shape) => WithShape(TensorInterop.fta_tensor_expand, shape);

        public Tensor repeat(params long[] repeats) => WithShape(TensorInterop.fta_tensor_repeat, repeats);

        public Tensor flip(params long[] dims) => WithShape(TensorInterop.fta_tensor_flip, dims);

        public Tensor expand_as(Tensor other) => expand(other.shape);

        public Tensor view_as(Tensor other) => view(other.shape);

        public Tensor flatten(long start_dim = 0, long end_dim = -1) =>
            Result(TensorInterop.fta_tensor_flatten(NativeHandle, start_dim, end_dim, out var r), r);

        public Tensor transpose(long dim0, long dim1) => Result(TensorInterop.fta_tensor_transpose(NativeHandle, dim0, dim1, out var r), r);

        /// <summary>Transpose of a 2-D tensor.</summary>
        public Tensor t() => transpose(0, 1);

        public Tensor mT => transpose(-2, -1);

        public Tensor contiguous() => Result(TensorInterop.fta_tensor_contiguous(NativeHandle, out var r), r);

        public Tensor narrow(long dim, long start, long length) => Result(TensorInterop.fta_tensor_narrow(NativeHandle, dim, start, length, out var r), r);

        /// <summary>Elements start..end (exclusive) by step along dim; end may exceed the size.</summary>
        public Tensor slice(long dim, long start, long end, long step = 1) =>
            Result(TensorInterop.fta_tensor_slice(NativeHandle, dim, start, end, step, out var r), r);

        public Tensor select(long dim, long index) => Result(TensorInterop.fta_tensor_select(NativeHandle, dim, index, out var r), r);

        /// <summary>t[i] along the first dimension.</summary>
        public Tensor this[long index] => select(0, index);

        /// <summary>t[mask] (boolean) or t[indices] (integer) along the first dimension.</summary>
        public Tensor this[Tensor index] => Result(TensorInterop.fta_tensor_index(NativeHandle, index.NativeHandle, out var r), r);

        public Tensor index_select(long dim, Tensor index) => Result(TensorInterop.fta_tensor_index_select(NativeHandle, dim, index.NativeHandle, out var r), r);

        public Tensor gather(long dim, Tensor index) => Result(TensorInterop.fta_tensor_gather(NativeHandle, dim, index.NativeHandle, out var r), r);

        public Tensor scatter(long dim, Tensor index, Tensor src) =>
            Result(TensorInterop.fta_tensor_scatter(NativeHandle, dim, index.NativeHandle, src.NativeHandle, out var r), r);

        public Tensor index_copy_(long dim, Tensor index, Tensor source)
        {
            Status.Check(TensorInterop.fta_tensor_index_copy_(NativeHandle, dim, index.NativeHandle, source.NativeHandle));
            return this;
        }

        /// <summary>t[index] = values (accumulate: +=), index being a boolean mask or integer indices.</summary>
        public Tensor index_put_(Tensor values, Tensor index, bool accumulate = false)
        {
            Status.Check(TensorInterop.fta_tensor_index_put_(NativeHandle, index.NativeHandle, values.NativeHandle, accumulate ? 1 : 0));
            return this;
        }

        public Tensor masked_fill(Tensor mask, Scalar value) => Result(TensorInterop.fta_tensor_masked_fill(NativeHandle, mask.NativeHandle, value, out var r), r);

        public Tensor masked_fill_(Tensor mask, Scalar value)
        {
            Status.Check(TensorInterop.fta_tensor_masked_fill_(NativeHandle, mask.NativeHandle, value));
            return this;
        }

        public Tensor masked_select(Tensor mask) => Result(TensorInterop.fta_tensor_masked_select(NativeHandle, mask.NativeHandle, out var r), r);

        public Tensor unsqueeze(long dim) => Result(TensorInterop.fta_tensor_unsqueeze(NativeHandle, dim, out var r), r);

        public Tensor squeeze(long? dim = null) => Result(TensorInterop.fta_tensor_squeeze(NativeHandle, dim.HasValue ? 1 : 0, dim ?? 0, out var r), r);

        public Tensor repeat_interleave(long repeats, long dim) =>
            Result(TensorInterop.fta_tensor_repeat_interleave(NativeHandle, repeats, dim, out var r), r);

        public Tensor tril(long diagonal = 0) => Result(TensorInterop.fta_tensor_tril(NativeHandle, diagonal, out var r), r);

        public Tensor triu(long diagonal = 0) => Result(TensorInterop.fta_tensor_triu(NativeHandle, diagonal, out var r), r);

        public Tensor[] chunk(long chunks, long dim = 0)
        {
            var results = new IntPtr[Math.Max(chunks, 1)];
            long count;
            fixed (IntPtr* p = results)
                Status.Check(TensorInterop.fta_tensor_chunk(NativeHandle, chunks, dim, p, results.Length, out count));
            return Wrap(results, count);
        }

        public Tensor[] split(long split_size, long dim = 0)
        {
            if (split_size <= 0)
                throw new TorchArgumentException($"split expects split_size be positive, but got split_size={split_size}");
            var n = (size(dim) + split_size - 1) / split_size;
            var results = new IntPtr[Math.Max(n, 1)];
            long count;
            fixed (IntPtr* p = results)
                Status.Check(TensorInterop.fta_tensor_split(NativeHandle, split_size, dim, p, results.Length, out count));
            return Wrap(results, count);
        }

        public Tensor[] split(long[] split_sizes, long dim = 0)
        {
            var results = new IntPtr[Math.Max(split_sizes.Length, 1)];
            long count;
            fixed (IntPtr* p = results)
            fixed (long* s = split_sizes)
                Status.Check(TensorInterop.fta_tensor_split_with_sizes(NativeHandle, s, split_sizes.Length, dim, p, results.Length, out count));
            return Wrap(results, count);
        }

        private static Tensor[] Wrap(IntPtr[] handles, long count)
        {
            var tensors = new Tensor[count];
            for (var i = 0; i < count; i++)
                tensors[i] = new Tensor(handles[i]);
            return tensors;
        }

        /// <summary>A tensor sharing storage but cut off from the autograd graph.</summary>
        public Tensor detach() => Result(TensorInterop.fta_tensor_detach(NativeHandle, out var r), r);

        public Tensor detach_()
        {
            Status.Check(TensorInterop.fta_tensor_detach_(NativeHandle));
            return this;
        }

        /// <summary>A second handle to this same tensor (same storage and autograd identity), owned separately.</summary>
        public Tensor alias() => Result(TensorInterop.fta_tensor_alias(NativeHandle, out var r), r);

        public Tensor clone() => Result(TensorInterop.fta_tensor_clone(NativeHandle, out var r), r);

        public Tensor to_type(ScalarType type, bool copy = false) =>
            Result(TensorInterop.fta_tensor_to_dtype(NativeHandle, (int)type, copy ? 1 : 0, out var r), r);

        public Tensor to(ScalarType type, bool copy = false) => to_type(type, copy);

        public Tensor to(Device device, bool non_blocking = false, bool copy = false) =>
            Result(TensorInterop.fta_tensor_to_device(NativeHandle, (int)device.type, device.index, non_blocking ? 1 : 0, copy ? 1 : 0, out var r), r);

        public Tensor to(Device device, ScalarType type)
        {
            using var moved = to(device);
            return moved.to_type(type);
        }

        public Tensor cpu() => to(CPU);

        public Tensor cuda(int index = -1) => to(new Device(DeviceType.CUDA, index));

        public Tensor @float() => to_type(ScalarType.Float32);

        public Tensor @long() => to_type(ScalarType.Int64);

        public Tensor @int() => to_type(ScalarType.Int32);

        public Tensor @bool() => to_type(ScalarType.Bool);

        public Tensor half() => to_type(ScalarType.Float16);

        public Tensor bfloat16() => to_type(ScalarType.BFloat16);

        public Tensor copy_(Tensor source, bool non_blocking = false)
        {
            Status.Check(TensorInterop.fta_tensor_copy_(NativeHandle, source.NativeHandle, non_blocking ? 1 : 0));
            return this;
        }

        public Tensor fill_(Scalar value)
        {
            Status.Check(TensorInterop.fta_tensor_fill_(NativeHandle, value));
            return this;
        }

        public Tensor zero_()
        {
            Status.Check(TensorInterop.fta_tensor_zero_(NativeHandle));
            return this;
        }

        /// <summary>Replaces this tensor's data in place, keeping its identity (PyTorch's <c>t.data = other</c>).</summary>
        public void set_(Tensor data) => Status.Check(TensorInterop.fta_tensor_set_data(NativeHandle, data.NativeHandle));

        public Tensor uniform_(double from = 0, double to = 1)
        {
            Status.Check(TensorInterop.fta_tensor_uniform_(NativeHandle, from, to));
            return this;
        }

        public Tensor normal_(double mean = 0, double std = 1)
        {
            Status.Check(TensorInterop.fta_tensor_normal_(NativeHandle, mean, std));
            return this;
        }

        public Tensor bernoulli_(double p = 0.5)
        {
            Status.Check(TensorInterop.fta_tensor_bernoulli_(NativeHandle, p));
            return this;
        }
    }
}
