using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;
using static FineTuneAgent.Torch.torch.distributed;

namespace FineTuneAgent.Core.Training;

/// <summary>
/// The trainable parameters of a data-parallel replica cut into buckets of about a cap's bytes, as DDP's
/// reducer does (bucket_cap_mb): each bucket's gradients travel as one flat buffer per collective (the binding
/// flattens a list into one buffer and copies the result back), so a LoRA step costs a few collectives rather
/// than one per tensor, and a Full step's buffers stay bounded in memory.
/// </summary>
/// <remarks>
/// Buckets follow the parameters' order. DDP fills them in reverse, because it overlaps each bucket's
/// all-reduce with the rest of backward and gradients arrive last layer first; this trainer reduces after
/// backward (and accumulation) has finished, so the order only has to be the same on every replica, which it is
/// when every replica adapts the same model the same way (<see cref="ReplicaCheck"/> compares the counts).
/// </remarks>
public sealed class GradientBuckets
{
    private readonly IReadOnlyList<Tensor> _parameters;

    public GradientBuckets(IReadOnlyList<Tensor> parameters, long capBytes)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _parameters = parameters;
        CapBytes = capBytes;
        Buckets = Partition(parameters.Select(p => p.numel() * p.ElementSize).ToList(), capBytes);
        TotalBytes = parameters.Sum(p => p.numel() * p.ElementSize);
    }

    /// <summary>Indices into the parameter list, bucket by bucket.</summary>
    public IReadOnlyList<IReadOnlyList<int>> Buckets { get; }

    public long CapBytes { get; }

    /// <summary>Gradient bytes each replica sends into the all-reduce per step (every trainable parameter's).</summary>
    public long TotalBytes { get; }

    /// <summary>
    /// Consecutive runs of the sizes whose total stays within <paramref name="capBytes"/>; a size above the
    /// cap makes a bucket of its own. Every index appears once, in order.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<int>> Partition(IReadOnlyList<long> sizes, long capBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capBytes, 1);
        var buckets = new List<IReadOnlyList<int>>();
        var current = new List<int>();
        long filled = 0;
        for (var i = 0; i < sizes.Count; i++)
        {
            if (current.Count > 0 && filled + sizes[i] > capBytes)
            {
                buckets.Add(current);
                current = [];
                filled = 0;
            }
            current.Add(i);
            filled += sizes[i];
        }
        if (current.Count > 0)
            buckets.Add(current);
        return buckets;
    }

    /// <summary>
    /// Sums every parameter's gradient over the replicas, in place, bucket by bucket. A parameter without a
    /// gradient (a replica that had no rows this step) takes part with zeros, so every replica ends with the
    /// same gradients.
    /// </summary>
    public void AllReduceGradients(ProcessGroup group)
    {
        foreach (var bucket in Buckets)
        {
            var grads = new List<Tensor>(bucket.Count);
            try
            {
                foreach (var i in bucket)
                    grads.Add(GradientOf(_parameters[i]));
                group.all_reduce(grads, ReduceOp.Sum);
            }
            finally
            {
                foreach (var g in grads)
                    g.Dispose();
            }
        }
    }

    /// <summary>Copies rank <paramref name="src"/>'s parameter values into every replica's, bucket by bucket.</summary>
    public void BroadcastParameters(ProcessGroup group, int src = 0)
    {
        foreach (var bucket in Buckets)
            group.broadcast(bucket.Select(i => _parameters[i]).ToList(), src);
    }

    /// <summary>
    /// The largest |difference| between any replica's parameters and rank <paramref name="src"/>'s, the same on
    /// every replica (each bucket's values are broadcast into copies and compared, then the maximum is
    /// all-reduced). 0 when the replicas are bitwise equal; NaN when a difference is NaN.
    /// </summary>
    public double MaxDifferenceFrom(ProcessGroup group, int src = 0)
    {
        double worst = 0;
        foreach (var bucket in Buckets)
        {
            using var scope = NewDisposeScope();
            var copies = bucket.Select(i => _parameters[i].detach().clone()).ToList();
            group.broadcast(copies, src);
            for (var k = 0; k < bucket.Count; k++)
            {
                var d = (_parameters[bucket[k]].detach() - copies[k]).abs().max().to_type(ScalarType.Float64).ToDouble();
                worst = double.IsNaN(d) || double.IsNaN(worst) ? double.NaN : Math.Max(worst, d);
            }
        }
        var device = _parameters.Count > 0 ? _parameters[0].device : CPU;
        using var t = tensor(new[] { double.IsNaN(worst) ? double.PositiveInfinity : worst }, [1], ScalarType.Float64, device);
        group.all_reduce(t, ReduceOp.Max);
        using var host = t.cpu();
        var result = host.data<double>()[0];
        return double.IsPositiveInfinity(result) ? double.NaN : result;
    }

    /// <summary>The parameter's gradient handle (dispose it), zeros first when it has none.</summary>
    private static Tensor GradientOf(Tensor parameter)
    {
        if (parameter.grad is { } g)
            return g;
        using (var zeros = zeros_like(parameter))
            parameter.grad = zeros;
        return parameter.grad ?? throw new InvalidOperationException("the gradient just set is missing");
    }
}
