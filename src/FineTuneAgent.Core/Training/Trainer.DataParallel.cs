using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Training;

/// <summary>
/// What a trainer does as one replica of a data-parallel run (<see cref="Trainer.DataParallel"/> set): check that
/// the replicas train the same run, start them from rank 0's parameters, and after every step's backward sum the
/// gradients and the step's loss and tokens over the replicas and agree on one gradient norm, so that every
/// replica takes the identical optimizer step; at the end, check that they did.
/// </summary>
public sealed partial class Trainer
{
    /// <summary>
    /// Compares the replicas' run (<see cref="ReplicaCheck"/>), then copies rank 0's trainable parameters into
    /// every replica (DDP does this at construction: a replica whose adapter initialisation drew different numbers
    /// still starts identical). Returns the gradient buckets of the trainable parameters.
    /// </summary>
    private GradientBuckets JoinReplicas(IReadOnlyList<Tensor> trainable, TrainerState state, IProgress<TrainingEvent>? report)
    {
        var dp = DataParallel!;
        var buckets = new GradientBuckets(trainable, dp.BucketCapBytes);
        ReplicaCheck.VerifySameRun(dp, _adapted.Model.OutputWeight.device,
        [
            ("train_rows", _train.Count),
            ("train_rows_sha256", ReplicaCheck.RowsHash(_train)),
            ("validation_rows", _validation.Count),
            ("validation_rows_sha256", ReplicaCheck.RowsHash(_validation)),
            ("global_batch", Options.EffectiveBatchSize),
            ("total_steps", TotalSteps),
            ("training_options_sha256", ReplicaCheck.OptionsHash(Options)),
            ("resumed_step", state.GlobalStep),
            ("epoch_index", state.EpochIndex),
            ("data_position", state.DataPosition),
            ("trainable_tensors", trainable.Count),
            ("trainable_elements", trainable.Sum(p => p.numel())),
            ("gradient_buckets", buckets.Buckets.Count),
            ("bucket_cap_bytes", dp.BucketCapBytes),
        ]);
        buckets.BroadcastParameters(dp.Group);
        report?.Report(new JobMessage(
            $"data parallel: {dp.WorldSize} replicas over {dp.Group.backend}, each running its share of the global batch of {Options.EffectiveBatchSize}; " +
            $"every step sums {buckets.TotalBytes:N0} bytes of gradients in {buckets.Buckets.Count} bucket(s) of at most {dp.BucketCapMegabytes} MiB; " +
            "the replicas start from rank 0's parameters"));
        return buckets;
    }

    /// <summary>
    /// After this replica's backward: sums the gradients over the replicas (in place), then in one more
    /// collective the step's loss and tokens, rank 0's gradient norm (the others add 0) and the replicas' cancel
    /// requests. Returns the global loss and tokens, the norm every replica clips with, and whether any replica
    /// asked to stop.
    /// </summary>
    private (double Loss, long Tokens, double GradNorm, bool Cancelled) ReduceStep(GradientBuckets buckets, IReadOnlyList<Tensor> trainable,
        double loss, long tokens, bool cancelRequested)
    {
        var dp = DataParallel!;
        buckets.AllReduceGradients(dp.Group);
        // The replicas hold identical gradients now, but a norm is a reduction whose rounding depends on the
        // thread count, which peers need not share: one value for all keeps their clipping, and so their
        // parameters, bitwise identical.
        var norm = dp.IsMain ? GradientNorm(trainable) : 0;
        var sums = dp.Sum(_adapted.Model.OutputWeight.device, loss, tokens, norm, cancelRequested ? 1 : 0);
        return (sums[0], (long)sums[1], sums[2], sums[3] > 0);
    }

    /// <summary>The joint 2-norm of the gradients, computed as torch's clip_grad_norm_ does (norm of the per-tensor norms).</summary>
    private static double GradientNorm(IReadOnlyList<Tensor> parameters)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var norms = parameters.Select(p => p.grad).OfType<Tensor>().Select(g => g.norm()).ToList();
        return norms.Count == 0 ? 0 : stack(norms).norm().ToDouble();
    }

    /// <summary>
    /// Scales the gradients as torch's clip_grad_norm_ does for a total norm already known: by max_norm / (norm +
    /// 1e-6), computed in float32 as torch computes it for float32 gradients, when that is below 1. Returns the norm.
    /// </summary>
    private double ClipToNorm(IReadOnlyList<Tensor> parameters, double norm)
    {
        if (Options.MaxGradNorm <= 0 || !double.IsFinite(norm))
            return norm;
        var coefficient = (float)Options.MaxGradNorm / ((float)norm + 1e-6f);
        if (coefficient >= 1f)
            return norm;
        using var _ = no_grad();
        foreach (var p in parameters)
        {
            using var g = p.grad;
            g?.mul_(coefficient);
        }
        return norm;
    }

    /// <summary>
    /// Fails every replica when any replica's trainable parameters differ from rank 0's after the last step (they
    /// cannot when the reductions above did their work; this makes sure of it once per run).
    /// </summary>
    private void VerifyReplicasInSync(GradientBuckets buckets, int step, IProgress<TrainingEvent>? report)
    {
        var dp = DataParallel!;
        var difference = buckets.MaxDifferenceFrom(dp.Group);
        if (difference != 0)
            throw new InvalidOperationException(
                $"after step {step} the data-parallel replicas' trainable parameters differ from rank 0's by up to {difference:G4}; they should be identical");
        report?.Report(new JobMessage($"data parallel: after step {step} the trainable parameters of all {dp.WorldSize} replicas equal rank 0's exactly"));
    }
}
