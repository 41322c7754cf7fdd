namespace FineTuneAgent.Torch.Tests;

/// <summary>
/// Compares autograd's gradients with central finite differences in float64: an independent
/// computation that only evaluates the function.
/// </summary>
internal static class GradientCheck
{
    /// <summary>
    /// f maps float64 inputs to a scalar. Checks d f / d inputs[i] for each i marked in wrt
    /// (all when null) to within tolerance.
    /// </summary>
    public static void Assert(Func<Tensor[], Tensor> f, Tensor[] inputs, bool[]? wrt = null, double h = 1e-6, double tolerance = 1e-6)
    {
        using var scope = NewDisposeScope();
        wrt ??= inputs.Select(_ => true).ToArray();
        var leaves = inputs.Select((x, i) => x.detach().clone().requires_grad_(wrt[i])).ToArray();
        var y = f(leaves);
        Xunit.Assert.Equal(0L, y.dim());
        y.backward();

        for (var i = 0; i < inputs.Length; i++)
        {
            if (!wrt[i])
                continue;
            var analytic = leaves[i].grad?.data<double>() ?? throw new Xunit.Sdk.XunitException($"input {i} got no gradient");
            var values = inputs[i].data<double>();
            var shape = inputs[i].shape;
            for (var j = 0; j < values.Length; j++)
            {
                var numeric = (Evaluate(f, inputs, i, values, shape, j, +h) - Evaluate(f, inputs, i, values, shape, j, -h)) / (2 * h);
                var scale = Math.Max(1.0, Math.Abs(numeric));
                if (Math.Abs(analytic[j] - numeric) > tolerance * scale)
                    throw new Xunit.Sdk.XunitException($"input {i} element {j}: autograd {analytic[j]:R}, finite difference {numeric:R}");
            }
        }
    }

    private static double Evaluate(Func<Tensor[], Tensor> f, Tensor[] inputs, int i, double[] values, long[] shape, int j, double delta)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var perturbed = (double[])values.Clone();
        perturbed[j] += delta;
        var args = inputs.Select((x, k) => k == i ? tensor(perturbed, shape) : x).ToArray();
        return f(args).item<double>();
    }

    /// <summary>A fixed random float64 tensor, for projecting an op's output onto a scalar.</summary>
    public static Tensor Random(long seed, params long[] shape)
    {
        manual_seed(seed);
        return randn(shape, ScalarType.Float64);
    }
}
