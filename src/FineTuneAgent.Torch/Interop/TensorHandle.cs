using System.Runtime.InteropServices;

namespace FineTuneAgent.Torch.Interop;

/// <summary>
/// Owns one native at::Tensor*. Passing it to a LibraryImport keeps it alive for the length of
/// the call, so a tensor collected on another thread cannot be freed while libtorch uses it.
/// </summary>
internal sealed class TensorHandle : SafeHandle
{
    /// <summary>A handle meaning "no tensor" for optional arguments (bias, weight).</summary>
    internal static readonly TensorHandle Null = new(IntPtr.Zero, ownsHandle: false);

    internal TensorHandle(IntPtr handle, bool ownsHandle = true) : base(IntPtr.Zero, ownsHandle)
    {
        SetHandle(handle);
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        LiveTensors.Released();
        return TensorInterop.fta_tensor_free(handle) == Status.Ok;
    }
}

/// <summary>
/// Process-wide count of native tensors not yet released; tests assert it returns to its
/// baseline after work that should leave nothing behind.
/// </summary>
internal static class LiveTensors
{
    private static long _count;
    internal static long Count => Interlocked.Read(ref _count);
    internal static void Created() => Interlocked.Increment(ref _count);
    internal static void Released() => Interlocked.Decrement(ref _count);
}

/// <summary>
/// Holds references on a list of tensor handles while their raw pointers are passed to native
/// code as an array, and releases them afterwards.
/// </summary>
internal ref struct HandleArray
{
    private readonly SafeHandle?[] _owners;
    internal readonly IntPtr[] Pointers;

    internal HandleArray(IReadOnlyList<torch.Tensor?> tensors)
    {
        Pointers = new IntPtr[tensors.Count];
        _owners = new SafeHandle?[tensors.Count];
        for (var i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            if (t is null)
                continue;
            var h = t.NativeHandle;
            var added = false;
            h.DangerousAddRef(ref added);
            _owners[i] = h;
            Pointers[i] = h.DangerousGetHandle();
        }
    }

    public readonly void Dispose()
    {
        foreach (var h in _owners)
            h?.DangerousRelease();
    }
}
