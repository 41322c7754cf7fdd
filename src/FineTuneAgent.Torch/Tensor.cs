using System.Runtime.InteropServices;
using FineTuneAgent.Torch.Interop;

namespace FineTuneAgent.Torch;

public static partial class torch
{
    /// <summary>
    /// A handle to one libtorch tensor. Every op returns a new Tensor that the caller owns:
    /// dispose it, or let the enclosing <see cref="DisposeScope"/> do it. No op disposes its
    /// inputs. Metadata and element access follow TorchSharp's names.
    /// </summary>
    public partial class Tensor : IDisposable
    {
        private readonly TensorHandle _handle;

        internal Tensor(IntPtr handle)
        {
            if (handle == IntPtr.Zero)
                throw new ArgumentException("null tensor handle", nameof(handle));
            _handle = new TensorHandle(handle);
            LiveTensors.Created();
            DisposeScope.Current?.Register(this);
        }

        /// <summary>Native tensors not yet released, process-wide (for leak tests).</summary>
        public static long TotalCount => LiveTensors.Count;

        internal TensorHandle NativeHandle => _handle;

        internal DisposeScope? OwningScope { get; set; }

        public bool IsInvalid => _handle.IsClosed || _handle.IsInvalid;

        /// <summary>Wraps a handle returned by the shim; null stays null (e.g. a missing grad).</summary>
        internal static Tensor? FromHandleOrNull(IntPtr handle) => handle == IntPtr.Zero ? null : new Tensor(handle);

        public void Dispose()
        {
            OwningScope?.Forget(this);
            OwningScope = null;
            _handle.Dispose();
            GC.SuppressFinalize(this);
        }

        /// <summary>Moves this tensor to the scope enclosing the current one (TorchSharp's name).</summary>
        public Tensor MoveToOuterDisposeScope() => OwningScope is { } s ? s.MoveToOuter(this) : this;

        /// <summary>Takes this tensor out of its dispose scope: the caller disposes it.</summary>
        public Tensor DetachFromDisposeScope() => OwningScope is { } s ? s.Detach(this) : this;

        public long[] shape
        {
            get
            {
                var n = dim();
                var result = new long[n];
                unsafe
                {
                    fixed (long* p = result)
                        Status.Check(TensorInterop.fta_tensor_shape(_handle, p, n));
                }
                return result;
            }
        }

        public long size(long dimension)
        {
            var s = shape;
            var d = dimension < 0 ? dimension + s.Length : dimension;
            if (d < 0 || d >= s.Length)
                throw new TorchArgumentException($"Dimension out of range (expected to be in range of [{-s.Length}, {s.Length - 1}], but got {dimension})");
            return s[d];
        }

        public long[] stride()
        {
            var n = dim();
            var result = new long[n];
            unsafe
            {
                fixed (long* p = result)
                    Status.Check(TensorInterop.fta_tensor_stride(_handle, p, n));
            }
            return result;
        }

        public long dim()
        {
            Status.Check(TensorInterop.fta_tensor_dim(_handle, out var d));
            return d;
        }

        public long Dimensions => dim();

        public long numel()
        {
            Status.Check(TensorInterop.fta_tensor_numel(_handle, out var n));
            return n;
        }

        public long NumberOfElements => numel();

        public ScalarType dtype
        {
            get
            {
                Status.Check(TensorInterop.fta_tensor_dtype(_handle, out var d));
                return (ScalarType)d;
            }
        }

        public long ElementSize
        {
            get
            {
                Status.Check(TensorInterop.fta_tensor_element_size(_handle, out var s));
                return s;
            }
        }

        public Device device
        {
            get
            {
                Status.Check(TensorInterop.fta_tensor_device(_handle, out var type, out var index));
                return new Device((DeviceType)type, index);
            }
        }

        public DeviceType device_type => device.type;

        public bool is_cuda => device_type == DeviceType.CUDA;

        public bool is_contiguous()
        {
            Status.Check(TensorInterop.fta_tensor_is_contiguous(_handle, out var c));
            return c != 0;
        }

        public bool is_floating_point() => torch.is_floating_point(dtype);

        /// <summary>Raw pointer to the first element (CPU tensors; valid while this tensor lives).</summary>
        public IntPtr data_ptr()
        {
            Status.Check(TensorInterop.fta_tensor_data_ptr(_handle, out var p));
            return p;
        }

        public override string ToString()
        {
            if (IsInvalid)
                return "tensor(disposed)";
            return $"tensor({string.Join(", ", shape)}, dtype={dtype}, device={device})";
        }

        /// <summary>libtorch's printed form of the values.</summary>
        public string str()
        {
            Status.Check(TensorInterop.fta_tensor_to_string(_handle, out var text));
            return Marshal.PtrToStringUTF8(text) ?? "";
        }
    }
}
