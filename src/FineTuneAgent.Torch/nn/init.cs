namespace FineTuneAgent.Torch;

public static partial class torch
{
    public static partial class nn
    {
        public enum FanInOut
        {
            FanIn,
            FanOut,
        }

        public enum NonlinearityType
        {
            Linear,
            ReLU,
            LeakyReLU,
            Tanh,
            Sigmoid,
        }

        /// <summary>torch.nn.init: in-place initialisers, run without recording gradients.</summary>
        public static class init
        {
            [ThreadStatic]
            private static int t_skipDepth;

            /// <summary>
            /// While the returned scope lives (on this thread), modules skip their default
            /// initialisation and the initialisers here leave tensors as they are, like transformers'
            /// no_init_weights: a model about to be overwritten by a checkpoint is built without
            /// writing (and so without touching the memory of) every weight first.
            /// </summary>
            public static IDisposable no_init()
            {
                t_skipDepth++;
                return new SkipScope();
            }

            /// <summary>Whether a <see cref="no_init"/> scope is active on this thread.</summary>
            public static bool skipping => t_skipDepth > 0;

            private sealed class SkipScope : IDisposable
            {
                private bool _disposed;

                public void Dispose()
                {
                    if (_disposed)
                        return;
                    _disposed = true;
                    t_skipDepth--;
                }
            }

            public static Tensor uniform_(Tensor tensor, double low = 0, double high = 1) => skipping ? tensor : tensor.uniform_(low, high);

            public static Tensor normal_(Tensor tensor, double mean = 0, double std = 1) => skipping ? tensor : tensor.normal_(mean, std);

            public static Tensor zeros_(Tensor tensor)
            {
                using (no_grad())
                    return tensor.zero_();
            }

            public static Tensor ones_(Tensor tensor) => constant_(tensor, 1.0);

            public static Tensor constant_(Tensor tensor, Scalar value)
            {
                using (no_grad())
                    return tensor.fill_(value);
            }

            /// <summary>(fan_in, fan_out) of a weight laid out (out, in, *receptive field).</summary>
            public static (long fanIn, long fanOut) CalculateFanInAndFanOut(Tensor tensor)
            {
                var shape = tensor.shape;
                if (shape.Length < 2)
                    throw new TorchArgumentException("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions");
                long receptive = 1;
                for (var i = 2; i < shape.Length; i++)
                    receptive *= shape[i];
                return (shape[1] * receptive, shape[0] * receptive);
            }

            /// <summary>The recommended gain for a nonlinearity, as torch.nn.init.calculate_gain.</summary>
            public static double calculate_gain(NonlinearityType nonlinearity, double param = 0.01) => nonlinearity switch
            {
                NonlinearityType.Linear or NonlinearityType.Sigmoid => 1.0,
                NonlinearityType.Tanh => 5.0 / 3,
                NonlinearityType.ReLU => Math.Sqrt(2.0),
                NonlinearityType.LeakyReLU => Math.Sqrt(2.0 / (1 + param * param)),
                _ => throw new ArgumentOutOfRangeException(nameof(nonlinearity)),
            };

            /// <summary>
            /// He/Kaiming uniform: U(-b, b) with b = gain * sqrt(3 / fan). nn.Linear uses a = sqrt(5),
            /// which gives b = 1/sqrt(fan_in).
            /// </summary>
            public static Tensor kaiming_uniform_(Tensor tensor, double a = 0, FanInOut mode = FanInOut.FanIn, NonlinearityType nonlinearity = NonlinearityType.LeakyReLU)
            {
                if (skipping)
                    return tensor;
                var (fanIn, fanOut) = CalculateFanInAndFanOut(tensor);
                var fan = mode == FanInOut.FanIn ? fanIn : fanOut;
                var gain = calculate_gain(nonlinearity, a);
                var bound = Math.Sqrt(3.0) * gain / Math.Sqrt(fan);
                return tensor.uniform_(-bound, bound);
            }

            public static Tensor xavier_uniform_(Tensor tensor, double gain = 1.0)
            {
                if (skipping)
                    return tensor;
                var (fanIn, fanOut) = CalculateFanInAndFanOut(tensor);
                var bound = gain * Math.Sqrt(6.0 / (fanIn + fanOut));
                return tensor.uniform_(-bound, bound);
            }
        }
    }
}
