using FineTuneAgent.Torch.Interop;

namespace FineTuneAgent.Torch;

public static partial class torch
{
    /// <summary>
    /// Fused CPU kernels for the decoder's elementwise ops (native/src/fused.cpp), each one pass forward and one
    /// backward with its own autograd node that saves only its inputs. They round where the eager composition
    /// rounds, so float32 results equal eager's up to the summation order of reductions. They take dense CPU
    /// tensors of float32, float64 or bfloat16 (a bfloat16 input with float32 weights gives float32, as eager
    /// promotion does); <see cref="Fusable"/> says whether a call qualifies, and callers keep the eager
    /// composition for everything else (CUDA tensors among them).
    /// </summary>
    public static class fused
    {
        /// <summary>Whether the fused kernels take tensors of these dtypes on this device: the pair (x, w) must be equal
        /// float32/float64/bfloat16 dtypes, or bfloat16 with float32.</summary>
        public static bool Fusable(Tensor x, Tensor w)
        {
            if (x.device.type != DeviceType.CPU || w.device.type != DeviceType.CPU)
                return false;
            var (a, b) = (x.dtype, w.dtype);
            return (a == b && a is ScalarType.Float32 or ScalarType.Float64 or ScalarType.BFloat16)
                || (a == ScalarType.BFloat16 && b == ScalarType.Float32);
        }

        /// <summary>Qwen3RMSNorm / LlamaRMSNorm: w · (x·rsqrt(mean(x², -1) + eps) in float32, as x's dtype).</summary>
        public static Tensor rms_norm(Tensor x, Tensor weight, double eps) =>
            Tensor.Result(FusedInterop.fta_fused_rms_norm(x.NativeHandle, weight.NativeHandle, eps, out var r), r);

        /// <summary>silu(gate) · up, silu rounded to gate's dtype first (SwiGLU's product).</summary>
        public static Tensor swiglu(Tensor gate, Tensor up) =>
            Tensor.Result(FusedInterop.fta_fused_swiglu(gate.NativeHandle, up.NativeHandle, out var r), r);

        /// <summary>
        /// Σ over rows of cross_entropy(logits[r], targets[r]) as a float64 scalar (rows whose target is
        /// <paramref name="ignore_index"/> count 0), and the gradient of <paramref name="scale"/> × that sum with respect
        /// to the logits (N, V), in the logits' dtype (float32 or bfloat16): softmax − one-hot, scaled. No autograd
        /// node is recorded; backpropagate the gradient through what produced the logits. The loss is libtorch's
        /// (log-sum-exp over a float32 view of the logits) with an exp accurate to about 2 ulp.
        /// </summary>
        public static (Tensor Loss, Tensor Grad) cross_entropy_with_grad(Tensor logits, Tensor targets, double scale = 1.0, long ignore_index = -100)
        {
            Status.Check(FusedInterop.fta_fused_cross_entropy_with_grad(logits.NativeHandle, targets.NativeHandle, scale, ignore_index, 1, out var loss, out var grad));
            return (Tensor.Result(0, loss), Tensor.Result(0, grad));
        }

        /// <summary>
        /// As <see cref="cross_entropy_with_grad"/>, but the gradient is written over <paramref name="logits"/> (which
        /// must be contiguous): a chunk's logits are not needed once their gradient exists, so no second logits-sized
        /// buffer is allocated. Returns the loss sum; backpropagate <paramref name="logits"/> itself afterwards.
        /// </summary>
        public static Tensor cross_entropy_with_grad_(Tensor logits, Tensor targets, double scale = 1.0, long ignore_index = -100)
        {
            Status.Check(FusedInterop.fta_fused_cross_entropy_with_grad(logits.NativeHandle, targets.NativeHandle, scale, ignore_index, 2, out var loss, out _));
            return Tensor.Result(0, loss);
        }

        /// <summary>The loss sum of <see cref="cross_entropy_with_grad"/> alone (float64 scalar), with no gradient computed.</summary>
        public static Tensor cross_entropy_sum(Tensor logits, Tensor targets, long ignore_index = -100)
        {
            Status.Check(FusedInterop.fta_fused_cross_entropy_with_grad(logits.NativeHandle, targets.NativeHandle, 1.0, ignore_index, 0, out var loss, out _));
            return Tensor.Result(0, loss);
        }

        /// <summary>
        /// Attention probabilities in one pass: softmax(scores·scale) over the last dimension in float32, keys where
        /// <paramref name="allowed"/> is false set to the scores' lowest value first (HF's masked_fill), returned as
        /// <paramref name="dtype"/>. scores (B, H, S, T) float32 or bfloat16; allowed (B, 1, S, T) bool. Backward
        /// reads the result (float32: eager's own probabilities; bfloat16: their rounding, which the matmul with the values keeps anyway).
        /// </summary>
        public static Tensor masked_softmax(Tensor scores, Tensor allowed, double scale, ScalarType dtype) =>
            Tensor.Result(FusedInterop.fta_fused_masked_softmax(scores.NativeHandle, allowed.NativeHandle, scale, (int)dtype, out var r), r);

        /// <summary>
        /// The attention core in one autograd node (native/src/attention.cpp, attention_bf16.cpp): softmax(q·kᵀ·scale)
        /// over the keys in float32, keys where <paramref name="allowed"/> is false set to the dtype's lowest value
        /// first (HF's masked_fill; a query that may attend to nothing gets uniform weights, as eager), cast to the
        /// inputs' dtype, times v; rounded where that eager composition rounds. q (B, S, nH, hd), k and v (B, T, nKV, hd) with nKV
        /// dividing nH (query head h uses key/value head h / (nH / nKV), HF's repeat_kv order), all float32 or all
        /// bfloat16 on the CPU; allowed (B, 1, S, T) bool. Returns (B, S, nH, hd), contiguous. Backward recomputes
        /// the probabilities from one float pair per query row instead of keeping them: in float32 block by block of
        /// query positions, in bfloat16 over whole heads by ATen's batched matmul.
        /// </summary>
        public static Tensor attention(Tensor q, Tensor k, Tensor v, Tensor allowed, double scale) =>
            Tensor.Result(FusedInterop.fta_fused_attention(q.NativeHandle, k.NativeHandle, v.NativeHandle, allowed.NativeHandle, scale, out var r), r);

        /// <summary>x·cos + rotate_half(x)·sin for x (B, S, heads, d) and cos/sin (B, S, d); the result is (B, S, heads, d).</summary>
        public static Tensor rotary(Tensor x, Tensor cos, Tensor sin) =>
            Tensor.Result(FusedInterop.fta_fused_rotary(x.NativeHandle, cos.NativeHandle, sin.NativeHandle, out var r), r);
    }

    public static partial class autograd
    {
        /// <summary>
        /// Records every ATen op run until disposed (libtorch's legacy autograd profiler, CPU times and
        /// shapes) and then writes them as a Chrome trace (JSON) to <paramref name="path"/>.
        /// </summary>
        public static IDisposable profile(string path)
        {
            Status.Check(FusedInterop.fta_profiler_start(path, out var handle));
            return new Profile(handle);
        }

        private sealed class Profile(IntPtr handle) : IDisposable
        {
            private IntPtr _handle = handle;

            public void Dispose()
            {
                var h = Interlocked.Exchange(ref _handle, IntPtr.Zero);
                if (h != IntPtr.Zero)
                    Status.Check(FusedInterop.fta_profiler_stop(h));
            }
        }
    }
}
