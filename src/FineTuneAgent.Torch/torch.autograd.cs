using FineTuneAgent.Torch.Interop;

namespace FineTuneAgent.Torch;

public static partial class torch
{
    /// <summary>Disables gradient recording on this thread until disposed (`with torch.no_grad()`).</summary>
    public static IDisposable no_grad() => new GradModeScope(false);

    /// <summary>Enables gradient recording on this thread until disposed.</summary>
    public static IDisposable enable_grad() => new GradModeScope(true);

    public static IDisposable set_grad_enabled(bool enabled) => new GradModeScope(enabled);

    public static bool is_grad_enabled()
    {
        Status.Check(RuntimeInterop.fta_autograd_is_grad_enabled(out var e));
        return e != 0;
    }

    /// <summary>Restores the previous grad mode on dispose. Grad mode is per thread, as in libtorch.</summary>
    private sealed class GradModeScope : IDisposable
    {
        private readonly bool _previous;
        private bool _disposed;

        internal GradModeScope(bool enabled)
        {
            _previous = is_grad_enabled();
            Status.Check(RuntimeInterop.fta_autograd_set_grad_enabled(enabled ? 1 : 0));
        }

        public void Dispose()
        {
            if (_disposed)
                return;
            _disposed = true;
            Status.Check(RuntimeInterop.fta_autograd_set_grad_enabled(_previous ? 1 : 0));
        }
    }

    public static partial class autograd
    {
        /// <summary>
        /// Gradients of outputs with respect to inputs, without touching the inputs' .grad
        /// (torch.autograd.grad). An input the outputs do not depend on gives null when
        /// allow_unused is set.
        /// </summary>
        public static unsafe Tensor?[] grad(IReadOnlyList<Tensor> outputs, IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?>? grad_outputs = null,
            bool? retain_graph = null, bool create_graph = false, bool allow_unused = false)
        {
            using var outs = new HandleArray(outputs);
            using var ins = new HandleArray(inputs);
            using var gouts = new HandleArray(grad_outputs ?? []);
            var results = new IntPtr[inputs.Count];
            fixed (IntPtr* o = outs.Pointers)
            fixed (IntPtr* i = ins.Pointers)
            fixed (IntPtr* g = gouts.Pointers)
            fixed (IntPtr* r = results)
            {
                Status.Check(AutogradInterop.fta_autograd_grad(o, outputs.Count, i, inputs.Count, g, gouts.Pointers.Length,
                    retain_graph.HasValue ? (retain_graph.Value ? 1 : 0) : -1, create_graph ? 1 : 0, allow_unused ? 1 : 0, r));
            }
            return results.Select(Tensor.FromHandleOrNull).ToArray();
        }
    }

    /// <summary>
    /// Runs eligible ops in a lower precision until disposed, like `torch.autocast(device_type,
    /// dtype)`: bfloat16 on CPU; float16 or bfloat16 on CUDA. Per thread; scopes nest.
    /// </summary>
    public static IDisposable autocast(DeviceType device_type, ScalarType? dtype = null, bool enabled = true) =>
        new AutocastScope(device_type, dtype ?? (device_type == DeviceType.CPU ? ScalarType.BFloat16 : ScalarType.Float16), enabled);

    public static bool is_autocast_enabled(DeviceType device_type = DeviceType.CUDA)
    {
        Status.Check(RuntimeInterop.fta_autocast_get((int)device_type, out var enabled, out _));
        return enabled != 0;
    }

    public static ScalarType get_autocast_dtype(DeviceType device_type)
    {
        Status.Check(RuntimeInterop.fta_autocast_get((int)device_type, out _, out var dtype));
        return (ScalarType)dtype;
    }

    private sealed class AutocastScope : IDisposable
    {
        private readonly DeviceType _device;
        private readonly int _previousEnabled;
        private readonly int _previousDtype;
        private bool _disposed;

        internal AutocastScope(DeviceType device, ScalarType dtype, bool enabled)
        {
            if (device == DeviceType.CPU && dtype != ScalarType.BFloat16)
                throw new TorchArgumentException($"CPU autocast supports bfloat16 only, not {dtype}");
            if (device == DeviceType.CUDA && dtype is not (ScalarType.Float16 or ScalarType.BFloat16))
                throw new TorchArgumentException($"CUDA autocast supports float16 and bfloat16, not {dtype}");
            _device = device;
            Status.Check(RuntimeInterop.fta_autocast_get((int)device, out _previousEnabled, out _previousDtype));
            Status.Check(RuntimeInterop.fta_autocast_set((int)device, enabled ? 1 : 0, (int)dtype, 1));
        }

        public void Dispose()
        {
            if (_disposed)
                return;
            _disposed = true;
            Status.Check(RuntimeInterop.fta_autocast_set((int)_device, _previousEnabled, _previousDtype, 0));
        }
    }
}
