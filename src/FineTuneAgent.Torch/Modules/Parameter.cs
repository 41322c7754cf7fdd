using FineTuneAgent.Torch.Interop;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Torch.Modules;

/// <summary>
/// A tensor a module owns and trains. Like TorchSharp's Parameter, it takes over the tensor it
/// is made from (that object is disposed) and becomes a leaf outside every dispose scope: the
/// module that registers it disposes it.
/// </summary>
public sealed class Parameter : Tensor
{
    public Parameter(Tensor data, bool requires_grad = true) : base(DetachAndRelease(data))
    {
        DetachFromDisposeScope();
        this.requires_grad = requires_grad;
    }

    private static IntPtr DetachAndRelease(Tensor data)
    {
        ArgumentNullException.ThrowIfNull(data);
        Status.Check(TensorInterop.fta_tensor_detach(data.NativeHandle, out var detached));
        data.Dispose();
        return detached;
    }
}
