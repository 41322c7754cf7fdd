using System.Diagnostics;
using System.Globalization;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;
using static FineTuneAgent.Torch.torch.distributed;

namespace FineTuneAgent.Console.Commands;

/// <summary>
/// All-reduce bandwidth between two processes over Gloo: this process is rank 0 and serves the store, a child
/// `fta bench ddp --peer PORT` is rank 1, and both all-reduce float32 buffers of each size the same number of times.
/// </summary>
internal static class AllReduceBench
{
    public static readonly int[] SizesMiB = [1, 16, 64];

    private static readonly TimeSpan GroupTimeout = TimeSpan.FromSeconds(120);

    /// <summary>Untimed all-reduces before the timed ones, and timed ones, for a buffer of this size.</summary>
    private static (int Warmup, int Timed) Repeats(int mib) => mib <= 1 ? (5, 50) : mib <= 16 ? (2, 12) : (1, 6);

    public sealed record Result(int MiB, int Repeats, double MedianSeconds)
    {
        /// <summary>Buffer bytes per second (PyTorch's "algbw"). With two ranks a ring all-reduce sends and receives each byte once per rank, so the bus bandwidth (algbw × 2(n−1)/n) is the same number.</summary>
        public double MiBPerSecond => MiB / MedianSeconds;
    }

    /// <summary>Rank 0: serves the store, starts rank 1, measures every size and returns the medians.</summary>
    public static IReadOnlyList<Result> Measure()
    {
        using var store = new TCPStore("127.0.0.1", 0, world_size: 2, is_master: true, timeout: GroupTimeout, wait_for_workers: false);
        using var peer = BenchProcess.StartSelf(["bench", "ddp", "--peer", store.port.ToString(CultureInfo.InvariantCulture)], new Dictionary<string, string>());
        var stderr = peer.StandardError.ReadToEndAsync();
        try
        {
            using var group = new_group_gloo(store, rank: 0, world_size: 2, timeout: GroupTimeout, group_name: "bench");
            var results = Run(group);
            if (!peer.WaitForExit(TimeSpan.FromSeconds(60)) || peer.ExitCode != 0)
                throw new InvalidOperationException($"the all-reduce peer failed: {stderr.Result}");
            return results;
        }
        finally
        {
            if (!peer.HasExited)
                peer.Kill(entireProcessTree: true);
        }
    }

    /// <summary>Rank 1 (`fta bench ddp --peer PORT`): joins and takes part in the same collectives.</summary>
    public static void Peer(int port)
    {
        using var store = new TCPStore("127.0.0.1", port, world_size: 2, is_master: false, timeout: GroupTimeout);
        using var group = new_group_gloo(store, rank: 1, world_size: 2, timeout: GroupTimeout, group_name: "bench");
        Run(group);
    }

    private static List<Result> Run(ProcessGroup group)
    {
        var results = new List<Result>();
        foreach (var mib in SizesMiB)
        {
            using var buffer = ones([mib * 1024L * 1024L / sizeof(float)], ScalarType.Float32);
            var (warmup, timed) = Repeats(mib);
            for (var i = 0; i < warmup; i++)
                group.all_reduce(buffer);
            var times = new List<double>();
            for (var i = 0; i < timed; i++)
            {
                group.barrier(); // both ranks start together, so one rank's lateness is not timed as bandwidth
                var clock = Stopwatch.StartNew();
                group.all_reduce(buffer);
                times.Add(clock.Elapsed.TotalSeconds);
            }
            times.Sort();
            results.Add(new Result(mib, timed, times[times.Count / 2]));
        }
        return results;
    }
}
