using FineTuneAgent.Torch.Tests.DistWorker;
using Xunit.Abstractions;

namespace FineTuneAgent.Torch.Tests.Distributed;

/// <summary>
/// Collectives between two processes on loopback: rank 0 here, rank 1 a worker process. Both run
/// the same scenario (DistScenarios); both ranks' results must equal the literal expectations.
/// </summary>
public sealed class TwoProcessCollectiveTests(ITestOutputHelper output)
{
    [Fact]
    public void AllReduce_SumOverTwoProcesses_BothRanksSeeExactSums()
    {
        var (rank0, rank1) = Both("all_reduce_sum");
        foreach (var r in new[] { rank0, rank1 })
        {
            Assert.Equal([300, 302, 304, 306, 308, 310], r["f"]); // (1*100 + i) + (2*100 + i)
            Assert.Equal([3, 6, 9, 12], r["l"]); // (i+1) + 2(i+1)
        }
    }

    [Fact]
    public void AllReduce_Avg_DividesTheSumByTheWorldSize()
    {
        var (rank0, rank1) = Both("all_reduce_avg");
        foreach (var r in new[] { rank0, rank1 })
        {
            Assert.Equal([1.5, 3, 4.5, 6, 7.5], r["f"]); // ((i+1) + 2(i+1)) / 2
            Assert.Equal([2, 3, 4], r["l"]); // [5, 7, 9] / 2, truncated
        }
    }

    [Fact]
    public void AllReduce_MaxMinProduct_CombineElementwise()
    {
        var (rank0, rank1) = Both("all_reduce_ops"); // [1, 5, -2] and [2, 4, 3]
        foreach (var r in new[] { rank0, rank1 })
        {
            Assert.Equal([2, 5, 3], r["max"]);
            Assert.Equal([1, 4, -2], r["min"]);
            Assert.Equal([2, 20, -6], r["product"]);
        }
    }

    [Fact]
    public void AllReduce_ListOfMixedDtypesShapesAndAView_ReducesEachTensorInPlace()
    {
        var (rank0, rank1) = Both("all_reduce_list");
        foreach (var r in new[] { rank0, rank1 })
        {
            Assert.Equal([3, 4, 5, 6], r["a"]);
            Assert.Equal([30, 32, 34], r["b"]);
            Assert.Equal([0, 3, 6, 9, 12, 15], r["c_base"]); // written through the transposed view
            Assert.Equal([0, 9, 3, 12, 6, 15], r["c"]);
            Assert.Equal([3], r["d"]);
        }
    }

    [Fact]
    public void Broadcast_FromEitherRank_OverwritesTheOthers()
    {
        var (rank0, rank1) = Both("broadcast");
        foreach (var r in new[] { rank0, rank1 })
        {
            Assert.Equal([7, 8, 9, 10], r["t"]); // from rank 1
            Assert.Equal([42, 43], r["l"]); // from rank 0
            Assert.Equal([0, 0.25, 0.5, 0.75], r["f"]);
        }
    }

    [Fact]
    public void AllGather_TwoProcesses_EveryRankGetsEveryInputInRankOrder()
    {
        var (rank0, rank1) = Both("all_gather");
        foreach (var r in new[] { rank0, rank1 })
        {
            Assert.Equal([10, 11, 12, 13, 14, 15], r["out0"]);
            Assert.Equal([20, 21, 22, 23, 24, 25], r["out1"]);
            Assert.Equal([2, 3], r["shape"]);
        }
    }

    [Fact]
    public void Barrier_RankOneArrivesLate_RankZeroWaitsForIt()
    {
        var (rank0, rank1) = Both("barrier");
        output.WriteLine($"rank 0 waited {rank0["barrier_ms"][0]:F0} ms, rank 1 {rank1["barrier_ms"][0]:F0} ms (rank 1 slept {DistScenarios.BarrierDelayMs} ms first)");
        Assert.True(rank0["barrier_ms"][0] >= 0.7 * DistScenarios.BarrierDelayMs, $"rank 0 left the barrier after {rank0["barrier_ms"][0]} ms");
    }

    private (Dictionary<string, double[]> Rank0, Dictionary<string, double[]> Rank1) Both(string scenario)
    {
        var baseline = LiveCount.Settled();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (rank0, worker) = TwoRanks.Run(scenario, pg =>
        {
            Assert.Equal(0, pg.rank());
            Assert.Equal(2, pg.size());
            Assert.Equal("gloo", pg.backend);
            return DistScenarios.Run(scenario, pg);
        });
        using (worker)
        {
            var rank1 = TwoRanks.Finish(worker);
            output.WriteLine($"{scenario}: both ranks done in {clock.ElapsedMilliseconds} ms (worker start included)");
            output.WriteLine(worker.Stdout);
            Assert.Contains("joined rank=1 size=2 backend=gloo", worker.Stdout, StringComparison.Ordinal);
            Assert.Equal(baseline, LiveCount.Settled());
            return (rank0, rank1);
        }
    }
}
