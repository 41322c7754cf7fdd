using FineTuneAgent.Torch.Interop;

namespace FineTuneAgent.Torch;

public static partial class torch
{
    public partial class Tensor
    {
        public bool requires_grad
        {
            get
            {
                Status.Check(AutogradInterop.fta_tensor_requires_grad(NativeHandle, out var r));
                return r != 0;
            }
            set => Status.Check(AutogradInterop.fta_tensor_set_requires_grad(NativeHandle, value ? 1 : 0));
        }

        public Tensor requires_grad_(bool requires_grad = true)
        {
            this.requires_grad = requires_grad;
            return this;
        }

        public bool is_leaf
        {
            get
            {
                Status.Check(AutogradInterop.fta_tensor_is_leaf(NativeHandle, out var r));
                return r != 0;
            }
        }

        /// <summary>
        /// The accumulated gradient as a new handle (dispose it), or null when there is none.
        /// Setting null clears it.
        /// </summary>
        public Tensor? grad
        {
            get
            {
                Status.Check(AutogradInterop.fta_tensor_grad(NativeHandle, out var g));
                return FromHandleOrNull(g);
            }
            set => Status.Check(AutogradInterop.fta_tensor_set_grad(NativeHandle, value?.NativeHandle ?? TensorHandle.Null));
        }

        public void retain_grad() => Status.Check(AutogradInterop.fta_tensor_retain_grad(NativeHandle));

        /// <summary>Computes gradients of this tensor with respect to the graph's leaves.</summary>
        public void backward(Tensor? gradient = null, bool? retain_graph = null, bool create_graph = false) =>
            Status.Check(AutogradInterop.fta_tensor_backward(NativeHandle, gradient?.NativeHandle ?? TensorHandle.Null,
                retain_graph.HasValue ? (retain_graph.Value ? 1 : 0) : -1, create_graph ? 1 : 0));
    }
}
