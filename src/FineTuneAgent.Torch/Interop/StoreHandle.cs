using System.Runtime.InteropServices;

namespace FineTuneAgent.Torch.Interop;

/// <summary>
/// Owns one native c10::intrusive_ptr&lt;c10d::Store&gt;*. Process groups created on the store hold
/// their own reference to it, so disposing the store before them is safe.
/// </summary>
internal sealed class StoreHandle : SafeHandle
{
    internal StoreHandle(IntPtr handle) : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle(handle);
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => DistributedInterop.fta_dist_store_free(handle) == Status.Ok;
}
