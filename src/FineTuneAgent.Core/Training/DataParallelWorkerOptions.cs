namespace FineTuneAgent.Core.Training;

/// <summary>
/// Where a data-parallel worker meets its peers and what it trains (<see cref="DataParallelWorker"/>; `fta worker`).
/// The names follow torchrun's: the store is MASTER_ADDR:MASTER_PORT, rank and world size are RANK and WORLD_SIZE.
/// </summary>
public sealed record DataParallelWorkerOptions
{
    /// <summary>The c10d TCPStore's host, as the other workers reach it.</summary>
    public required string StoreHost { get; init; }

    public required int StorePort { get; init; }

    public required int Rank { get; init; }

    public required int WorldSize { get; init; }

    /// <summary>The run's configuration (a <see cref="TrainRequest"/> as JSON, as run_config.json in every checkpoint).</summary>
    public required string RunConfig { get; init; }

    /// <summary>
    /// Whether this worker serves the store (listening on <see cref="StorePort"/> on every interface); default:
    /// rank 0 does, as PyTorch's env:// rendezvous has it. False on every rank when a coordinator serves it. A store
    /// serves one session of a run (its keys say who joined): restart the workers on a new store.
    /// </summary>
    public bool? HostStore { get; init; }

    /// <summary>
    /// How long a worker waits for the others: to join, for rank 0 to prepare the run, and in every collective.
    /// A peer that dies is noticed at once (its sockets close); one that hangs, after this. Default: PyTorch's
    /// 30 minutes.
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>The address this worker's Gloo endpoint listens on; the peers must reach it (default loopback).</summary>
    public string ListenAddress { get; init; } = "127.0.0.1";

    /// <summary>A network interface to listen on instead of <see cref="ListenAddress"/> (GLOO_SOCKET_IFNAME, e.g. "eth0").</summary>
    public string? Interface { get; init; }

    public int BucketCapMegabytes { get; init; } = DataParallel.DefaultBucketCapMegabytes;

    /// <summary>
    /// Where this worker trains: auto (default) follows the run's <c>device</c> option, taking
    /// cuda:<see cref="LocalRank"/> where that option is auto or cuda and libtorch sees a CUDA device; cpu, cuda or
    /// cuda:N override the run's option for this worker.
    /// </summary>
    public string Device { get; init; } = TrainingDevice.Auto;

    /// <summary>This worker's index among the workers on its host (torchrun's LOCAL_RANK): its CUDA device unless told.</summary>
    public int LocalRank { get; init; }

    /// <summary>A checkpoint folder, or an output folder whose last checkpoint to continue; null starts the run.</summary>
    public string? Resume { get; init; }
}
