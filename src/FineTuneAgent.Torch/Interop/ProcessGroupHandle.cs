using System.Runtime.InteropServices;

namespace FineTuneAgent.Torch.Interop;

/// <summary>
/// Owns one native c10::intrusive_ptr&lt;c10d::ProcessGroup&gt;*. Releasing it joins the group's
/// worker threads, which may wait for an operation in flight to finish or time out.
/// </summary>
internal sealed class ProcessGroupHandle : SafeHandle
{
    internal ProcessGroupHandle(IntPtr handle) : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle(handle);
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => DistributedInterop.fta_dist_group_free(handle) == Status.Ok;
}
