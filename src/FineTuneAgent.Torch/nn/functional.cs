using FineTuneAgent.Torch.Interop;

namespace FineTuneAgent.Torch;

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>How a loss reduces over the batch (at::Reduction order).</summary>
        public enum Reduction
        {
            None = 0,
            Mean = 1,
            Sum = 2,
        }

        /// <summary>torch.nn.functional: stateless layers and losses.</summary>
        public static unsafe class functional
        {
            /// <summary>y = x Wᵀ + b, with weight (out, in) and optional bias (out).</summary>
            public static Tensor linear(Tensor input, Tensor weight, Tensor? bias = null) =>
                Tensor.Result(NNInterop.fta_nn_linear(input.NativeHandle, weight.NativeHandle, bias?.NativeHandle ?? TensorHandle.Null, out var r), r);

            public static Tensor softmax(Tensor input, long dim, ScalarType? dtype = null) =>
                Tensor.Result(NNInterop.fta_nn_softmax(input.NativeHandle, dim, dtype.HasValue ? (int)dtype.Value : -1, out var r), r);

            public static Tensor log_softmax(Tensor input, long dim, ScalarType? dtype = null) =>
                Tensor.Result(NNInterop.fta_nn_log_softmax(input.NativeHandle, dim, dtype.HasValue ? (int)dtype.Value : -1, out var r), r);

            public static Tensor silu(Tensor input) => input.silu();

            public static Tensor gelu(Tensor input, bool approximate_tanh = false) => input.gelu(approximate_tanh);

            public static Tensor relu(Tensor input) => input.relu();

            public static Tensor sigmoid(Tensor input) => input.sigmoid();

            /// <summary>Zeroes elements with probability p and scales the rest by 1/(1-p) when training.</summary>
            public static Tensor dropout(Tensor input, double p = 0.5, bool training = true)
            {
                if (p < 0 || p > 1)
                    throw new TorchArgumentException($"dropout probability has to be between 0 and 1, but got {p}");
                return Tensor.Result(NNInterop.fta_nn_dropout(input.NativeHandle, p, training ? 1 : 0, out var r), r);
            }

            /// <summary>Rows of weight picked by integer indices; padding_idx rows get no gradient.</summary>
            public static Tensor embedding(Tensor input, Tensor weight, long? padding_idx = null) =>
                Tensor.Result(NNInterop.fta_nn_embedding(weight.NativeHandle, input.NativeHandle, padding_idx ?? -1, out var r), r);

            /// <summary>
            /// Cross entropy of logits (N, C) or (N, C, d...) against class indices; targets equal
            /// to ignore_index contribute nothing, and the mean is over the others.
            /// </summary>
            public static Tensor cross_entropy(Tensor input, Tensor target, Tensor? weight = null, long ignore_index = -100,
                Reduction reduction = Reduction.Mean, double label_smoothing = 0.0) =>
                Tensor.Result(NNInterop.fta_nn_cross_entropy(input.NativeHandle, target.NativeHandle, weight?.NativeHandle ?? TensorHandle.Null,
                    (int)reduction, ignore_index, label_smoothing, out var r), r);

            public static Tensor nll_loss(Tensor input, Tensor target, Tensor? weight = null, long ignore_index = -100, Reduction reduction = Reduction.Mean) =>
                Tensor.Result(NNInterop.fta_nn_nll_loss(input.NativeHandle, target.NativeHandle, weight?.NativeHandle ?? TensorHandle.Null,
                    (int)reduction, ignore_index, out var r), r);

            public static Tensor mse_loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) =>
                Tensor.Result(NNInterop.fta_nn_mse_loss(input.NativeHandle, target.NativeHandle, (int)reduction, out var r), r);

            public static Tensor layer_norm(Tensor input, long[] normalized_shape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
            {
                fixed (long* s = normalized_shape)
                    return Tensor.Result(NNInterop.fta_nn_layer_norm(input.NativeHandle, s, normalized_shape.Length, weight?.NativeHandle ?? TensorHandle.Null,
                        bias?.NativeHandle ?? TensorHandle.Null, eps, out var r), r);
            }
        }
    }
}
