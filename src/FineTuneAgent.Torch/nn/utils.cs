using FineTuneAgent.Torch.Interop;

namespace FineTuneAgent.Torch;

public static partial class torch
{
    public static partial class nn
    {
        public static class utils
        {
            /// <summary>
            /// Scales the gradients of the parameters in place so that their joint norm is at most
            /// max_norm, and returns the norm they had. norm_type may be double.PositiveInfinity.
            /// </summary>
            public static unsafe double clip_grad_norm_(IEnumerable<Tensor> parameters, double max_norm, double norm_type = 2.0)
            {
                var list = parameters as IReadOnlyList<Tensor> ?? parameters.ToList();
                using var handles = new HandleArray(list);
                fixed (IntPtr* p = handles.Pointers)
                {
                    Status.Check(NNInterop.fta_nn_clip_grad_norm(p, list.Count, max_norm, norm_type, out var total));
                    return total;
                }
            }
        }
    }
}
