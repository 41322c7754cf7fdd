using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Core.Quantization;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;
using static FineTuneAgent.Torch.torch.distributed;

namespace FineTuneAgent.Core.Training;

/// <summary>
/// One worker of a data-parallel run, from a run configuration to its share of the training: resolves its device
/// (the run's <c>device</c> option, cuda:&lt;local rank&gt; on a GPU host), joins the c10d TCPStore and a process group
/// (NCCL on CUDA, Gloo on the CPU: <see cref="DataParallelBackend"/>), lets rank 0 record the run and prepare what the workers share (the
/// built-in model, the dataset cache, a quantized base), then prepares the same run itself and trains it as one
/// replica (<see cref="DataParallel"/>). A world of one trains alone, with no store or group: the single-process
/// run that a data-parallel one must reproduce. `fta worker` runs this; the agent will too.
/// </summary>
/// <remarks>
/// Rank 0 prepares first and the others wait for it (through the store) because workers on one machine may
/// share a runs folder, and two processes writing the same cache entry at once could remove each other's
/// temporary files. Every worker then reads the same rows from the cache or prepares them identically.
/// A lost peer ends the group's next collective with <see cref="FineTuneAgent.Torch.TorchDistributedException"/> on every
/// other worker; restarting all of them with <see cref="DataParallelWorkerOptions.Resume"/> continues from the last
/// checkpoint rank 0 wrote. Every worker must be able to read that checkpoint (one machine, or a shared folder).
/// </remarks>
public static class DataParallelWorker
{
    public static TrainingSummary Run(TrainingJob job, DataParallelWorkerOptions options, IProgress<TrainingEvent>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(options);
        if (options.WorldSize < 1)
            throw new ArgumentException($"the world size must be at least 1, got {options.WorldSize}");
        if (options.Rank < 0 || options.Rank >= options.WorldSize)
            throw new ArgumentException($"the rank must be in 0..{options.WorldSize - 1}, got {options.Rank}");
        ArgumentOutOfRangeException.ThrowIfNegative(options.LocalRank);
        var request = TrainRequest.Read(options.RunConfig);
        var checkpoint = options.Resume is { } resume ? CheckpointOf(resume) : null;
        var (device, backend, why) = Placement(job, request, options);

        if (options.WorldSize == 1)
        {
            using var alone = job.Plan(request, checkpoint, progress, device);
            return Recorded(job, request.RunId, () => job.Train(alone, Prepare(alone, progress), checkpoint, progress, cancellation));
        }

        using var store = new TCPStore(options.StoreHost, options.StorePort, options.WorldSize, is_master: options.HostStore ?? options.Rank == 0,
            timeout: options.Timeout, wait_for_workers: false);
        AgreeOnBackend(store, options, backend, device);
        progress?.Report(new JobMessage($"data parallel: rank {options.Rank} (local rank {options.LocalRank}) trains on {device} over {backend}: {why}"));
        // The store serves this session of one run, so the names are fixed: workers whose configurations differ still
        // meet, and the replica check names what differs rather than a rendezvous timing out.
        using var group = backend == DataParallelBackend.Nccl
            ? new_group_nccl(store, options.Rank, options.WorldSize, options.Timeout, group_name: "fta-ddp")
            : new_group_gloo(store, options.Rank, options.WorldSize, options.Timeout, options.ListenAddress, options.Interface, group_name: "fta-ddp");
        var dataParallel = new DataParallel(group, options.BucketCapMegabytes);
        const string prepared = "fta-ddp/prepared";
        RunPlan? plan = null;
        try
        {
            PreparedDataset data;
            if (dataParallel.IsMain)
            {
                try
                {
                    plan = job.Plan(request, checkpoint, progress, device);
                    data = Prepare(plan, progress);
                }
                catch (Exception e)
                {
                    store.set(prepared, "failed: " + e.Message);
                    throw;
                }
                store.set(prepared, "ok");
            }
            else
            {
                store.wait([prepared], options.Timeout);
                var answer = System.Text.Encoding.UTF8.GetString(store.get(prepared));
                if (answer != "ok")
                    throw new InvalidDataException($"rank 0 could not prepare run {request.RunId}: {answer["failed: ".Length..]}");
                plan = job.PlanReplica(request, checkpoint, progress, device);
                data = Prepare(plan, progress);
            }
            return dataParallel.IsMain
                ? Recorded(job, request.RunId, () => job.Train(plan, data, checkpoint, progress, cancellation, dataParallel))
                : job.Train(plan, data, checkpoint, progress, cancellation, dataParallel);
        }
        finally
        {
            plan?.Dispose();
        }
    }

    /// <summary>
    /// This worker's device (<see cref="DataParallelWorkerOptions.Device"/>, else the run's <c>device</c> option, with
    /// the local rank as the CUDA index) and its group's backend. A device this machine lacks, or CUDA without NCCL,
    /// fails here, before the worker joins anything; rank 0 records it as the run's failure.
    /// </summary>
    private static (Device Device, string Backend, string Reason) Placement(TrainingJob job, TrainRequest request, DataParallelWorkerOptions options)
    {
        var asked = options.Device == TrainingDevice.Auto ? request.Options.Device : options.Device;
        try
        {
            var device = TrainingDevice.Resolve(asked, options.LocalRank);
            var (backend, reason) = options.WorldSize == 1 ? ("none", "it trains alone") : DataParallelBackend.Choose(device, torch.BuildFeatures().Nccl);
            return (device, backend, reason);
        }
        catch (TrainingOptionsException e)
        {
            if (options.Rank == 0)
            {
                if (!job.Store.Exists(request.RunId))
                    job.Store.Create(request.RunId, request.ToJson(), Path.GetFullPath(request.OutputDirectory), RunStatus.Failed);
                job.Store.Save(job.Store.Get(request.RunId) with { Status = RunStatus.Failed, Error = e.Message });
            }
            throw;
        }
    }

    /// <summary>
    /// Every worker writes its backend and device to the store and reads everyone's before the group forms: workers
    /// that would form different groups (one on NCCL, one on Gloo) would otherwise wait for each other until the
    /// timeout. All of them fail alike, naming each worker's choice.
    /// </summary>
    private static void AgreeOnBackend(TCPStore store, DataParallelWorkerOptions options, string backend, Device device)
    {
        static string Key(int rank) => $"fta-ddp/backend/{rank}";
        store.set(Key(options.Rank), $"{backend} on {device}");
        var keys = Enumerable.Range(0, options.WorldSize).Select(Key).ToArray();
        store.wait(keys, options.Timeout);
        var choices = keys.Select(k => System.Text.Encoding.UTF8.GetString(store.get(k))).ToList();
        if (choices.Select(c => c.Split(' ')[0]).Distinct().Count() > 1)
            throw new InvalidDataException(
                "the data-parallel workers chose different backends: " + string.Join(", ", choices.Select((c, r) => $"rank {r} {c}")) +
                "; give every worker the same device kind (--device cpu, or cuda on every member)");
    }

    /// <summary>Runs <paramref name="train"/> and, should it throw, records the run as cancelled or failed with the reason (rank 0 owns the record).</summary>
    private static TrainingSummary Recorded(TrainingJob job, string runId, Func<TrainingSummary> train)
    {
        try
        {
            return train();
        }
        catch (Exception e)
        {
            var (status, reason) = e switch
            {
                OperationCanceledException => (RunStatus.Cancelled, "cancelled"),
                FineTuneAgent.Torch.TorchDistributedException => (RunStatus.Failed, $"a data-parallel peer was lost or timed out: {e.Message}; restart every worker with --resume to continue from the last checkpoint"),
                _ => (RunStatus.Failed, e.Message),
            };
            job.Store.Save(job.Store.Get(runId) with { Status = status, Error = reason });
            throw;
        }
    }

    /// <summary>The rows of the plan's dataset (from the cache when prepared before), and the quantized base when the method needs one.</summary>
    private static PreparedDataset Prepare(RunPlan plan, IProgress<TrainingEvent>? progress)
    {
        void Say(string text) => progress?.Report(new JobMessage(text));
        var data = DatasetPipeline.Prepare(plan.Dataset, plan.Tokenizer, plan.Format, DatasetPipeline.TokenizerFiles(plan.ModelDirectory), Say);
        var source = data.Cache switch { CacheOutcome.Hit => "from the cache", CacheOutcome.Disabled => "not cached", _ => "prepared and cached" };
        Say($"data: {data.Train.Count} train rows, {data.Validation.Count} validation rows ({source})");
        if (plan.Quantization is { } scheme)
            QuantizedBase.EnsureCached(plan.ModelDirectory, scheme, plan.QuantizedBaseCacheDirectory, TrainingJob.ComputeDtype);
        return data;
    }

    private static string CheckpointOf(string path)
    {
        if (CheckpointFolder.IsCheckpoint(path))
            return Path.GetFullPath(path);
        return CheckpointFolder.Latest(path) ?? throw new FileNotFoundException(
            $"{path} is neither a checkpoint nor a folder holding one (checkpoint-<step>/ with {TrainerState.FileName})", path);
    }
}
