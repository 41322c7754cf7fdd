using static FineTuneAgent.Torch.torch.distributed;

namespace FineTuneAgent.Torch.Tests.Distributed;

/// <summary>
/// Runs rank 0 of a two-rank Gloo group in this process and rank 1 in a DistWorkerProcess,
/// meeting on a TCPStore this process hosts on a free loopback port. Every wait is bounded: past
/// <see cref="Limit"/>, or as soon as the worker dies unexpectedly, the test fails (with the
/// worker's output) instead of hanging, and the worker is killed.
/// </summary>
internal static class TwoRanks
{
    /// <summary>The longest any two-process test may take.</summary>
    internal static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    /// <summary>The exit code of the worker's deliberate exit in the "peer_lost" scenario.</summary>
    internal const int DeliberateExit = 3;

    /// <summary>
    /// Starts the worker on scenario, joins the group as rank 0 with groupTimeout and runs rank0
    /// on it. Returns rank0's result and the worker, which may still be running: the caller
    /// waits for it or disposes it (which kills it).
    /// </summary>
    internal static (T Result, DistWorkerProcess Worker) Run<T>(string scenario, Func<ProcessGroup, T> rank0, TimeSpan? groupTimeout = null)
    {
        var timeout = groupTimeout ?? TimeSpan.FromSeconds(30);
        using var store = new TCPStore("127.0.0.1", 0, world_size: 2, is_master: true, timeout: TimeSpan.FromSeconds(60), wait_for_workers: false);
        var worker = DistWorkerProcess.Start(scenario, store.port, timeout);
        try
        {
            var task = Task.Run(() =>
            {
                store.wait(["ready/1"]); // the worker is up; only now does the group's own timeout start
                using var pg = new_group_gloo(store, rank: 0, world_size: 2, timeout: timeout, group_name: "test");
                return rank0(pg);
            });
            var clock = System.Diagnostics.Stopwatch.StartNew();
            Task.WaitAny([task, worker.Exited], Limit);
            if (!task.IsCompleted)
            {
                if (!worker.HasExited)
                    throw new TimeoutException($"rank 0 did not finish within {Limit.TotalSeconds} s.\n{worker.Describe()}");
                if (worker.ExitCode is not (0 or DeliberateExit))
                    throw new InvalidOperationException($"the worker failed while rank 0 was still running.\n{worker.Describe()}");
                // The worker is gone: rank 0 must notice by itself, within its own timeouts.
                if (!task.Wait(Limit > clock.Elapsed ? Limit - clock.Elapsed : TimeSpan.Zero))
                    throw new TimeoutException($"rank 0 did not finish within {Limit.TotalSeconds} s.\n{worker.Describe()}");
            }
            return (task.GetAwaiter().GetResult(), worker);
        }
        catch
        {
            worker.Dispose();
            throw;
        }
    }

    /// <summary>Waits for a worker that should finish normally and returns its printed results.</summary>
    internal static Dictionary<string, double[]> Finish(DistWorkerProcess worker)
    {
        var code = worker.WaitForExit(Limit);
        Assert.True(code == 0, worker.Describe());
        Assert.Contains("done", worker.Stdout, StringComparison.Ordinal);
        return worker.Results();
    }
}
