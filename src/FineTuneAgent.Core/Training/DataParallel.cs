using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;
using static FineTuneAgent.Torch.torch.distributed;

namespace FineTuneAgent.Core.Training;

/// <summary>
/// The setting that makes a <see cref="Trainer"/> one replica of a data-parallel run: the c10d process group
/// of its replicas (this process's rank and the world size come from it) and the size of the gradient
/// buckets. A trainer without one (null) trains alone.
/// </summary>
/// <remarks>
/// <para>The global batch is the run's effective batch (per_device_train_batch_size × gradient_accumulation_steps),
/// whatever the world size: every replica draws the same seeded epoch order, takes the same
/// <see cref="TrainingOptions.EffectiveBatchSize"/> rows for the step, and keeps its <see cref="ShareOf"/> them,
/// which it runs in micro-batches of per_device_train_batch_size. So a run's data order, loss normalisation and
/// schedule do not depend on how many replicas train it, and a run can resume on fewer peers than it started on.
/// (Hugging Face multiplies the batch by the world size instead; here the world divides it.)</para>
/// <para>Each replica backpropagates sum(its token losses) / (label tokens of the whole global batch), so the sum
/// of the replicas' gradients is exactly the gradient a single process computes for the whole batch. That is
/// why the gradients are all-reduced with a plain sum and not averaged: DDP divides by the world size because
/// its replicas average their own rows; ours already divide by the global count.</para>
/// </remarks>
public sealed class DataParallel
{
    /// <summary>PyTorch DDP's bucket_cap_mb.</summary>
    public const int DefaultBucketCapMegabytes = 25;

    public DataParallel(ProcessGroup group, int bucketCapMegabytes = DefaultBucketCapMegabytes)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketCapMegabytes, 1);
        Group = group;
        BucketCapMegabytes = bucketCapMegabytes;
    }

    /// <summary>The replicas' process group; every collective of the run goes through it.</summary>
    public ProcessGroup Group { get; }

    public int Rank => Group.rank();

    public int WorldSize => Group.size();

    /// <summary>Rank 0 writes checkpoints, the adapter and events; the others only train.</summary>
    public bool IsMain => Rank == 0;

    /// <summary>Gradients travel in flat buffers of about this many MiB (a tensor larger than that travels alone).</summary>
    public int BucketCapMegabytes { get; }

    public long BucketCapBytes => BucketCapMegabytes * 1024L * 1024L;

    /// <summary>This replica's rows of a step's global batch (see <see cref="Share{T}"/>).</summary>
    public IReadOnlyList<T> ShareOf<T>(IReadOnlyList<T> rows) => Share(rows, Rank, WorldSize);

    /// <summary>
    /// The rows at positions rank, rank + world, rank + 2·world, … of a global batch: PyTorch's
    /// DistributedSampler stride, applied to each step's batch. When the rows do not divide by the world
    /// size (a global batch that is not a multiple of it, or the short last batch of an epoch) the shares
    /// differ by at most one row and a replica may get none; nothing is padded or repeated, unlike
    /// DistributedSampler, which repeats rows so that every rank has as many. Since the loss is normalised
    /// by the global token count and the gradients are summed, the step is still exactly the single-process
    /// step on the whole batch; the replicas with fewer rows only wait longer at the all-reduce.
    /// </summary>
    public static IReadOnlyList<T> Share<T>(IReadOnlyList<T> rows, int rank, int worldSize)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        if (rank < 0 || rank >= worldSize)
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"rank must be in 0..{worldSize - 1}");
        var share = new List<T>((rows.Count + worldSize - 1) / worldSize);
        for (var i = rank; i < rows.Count; i += worldSize)
            share.Add(rows[i]);
        return share;
    }

    /// <summary>
    /// Sums each value over the replicas (float64, on <paramref name="device"/>: NCCL reduces only CUDA
    /// tensors) and returns the sums, the same on every replica.
    /// </summary>
    public double[] Sum(Device device, params double[] values)
    {
        using var t = tensor(values, [values.Length], ScalarType.Float64, device);
        Group.all_reduce(t, ReduceOp.Sum);
        using var host = t.cpu();
        return host.data<double>();
    }

    public override string ToString() => $"data parallel: rank {Rank} of {WorldSize} ({Group.backend}), gradient buckets of {BucketCapMegabytes} MiB";
}
