using System.Diagnostics;
using Xunit.Abstractions;
using static FineTuneAgent.Torch.torch.distributed;

namespace FineTuneAgent.Torch.Tests.Distributed;

/// <summary>
/// Peers that never come, stay silent or die must end in a TorchDistributedException within the
/// configured timeout, never in a hang, and the process must go on working afterwards.
/// </summary>
public sealed class DistributedFailureTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Short = TimeSpan.FromSeconds(2);

    [Fact]
    public void NewGroupGloo_WorkerNeverArrives_ThrowsDistributedExceptionAfterTheTimeout()
    {
        var clock = Stopwatch.StartNew();
        var error = Bounded(() =>
        {
            using var store = new TCPStore("127.0.0.1", 0, world_size: 2, is_master: true, timeout: Short, wait_for_workers: false);
            return Assert.Throws<TorchDistributedException>(() => new_group_gloo(store, rank: 0, world_size: 2, timeout: Short));
        });
        output.WriteLine($"after {clock.ElapsedMilliseconds} ms: {error.Message}");
        Assert.InRange(clock.Elapsed, Short * 0.9, Short + TimeSpan.FromSeconds(15));
        Assert.Contains("rank 0 of 2 could not form a Gloo process group", error.Message, StringComparison.Ordinal);
        AssertNextOpWorks();
    }

    [Fact]
    public void TCPStore_MasterWaitingForWorkersThatNeverCome_ThrowsDistributedExceptionAfterTheTimeout()
    {
        var clock = Stopwatch.StartNew();
        var error = Bounded(() => Assert.Throws<TorchDistributedException>(
            () => new TCPStore("127.0.0.1", 0, world_size: 2, is_master: true, timeout: Short, wait_for_workers: true)));
        output.WriteLine($"after {clock.ElapsedMilliseconds} ms: {error.Message}");
        Assert.InRange(clock.Elapsed, Short * 0.9, Short + TimeSpan.FromSeconds(15));
        Assert.Contains("1/2 ranks joined", error.Message, StringComparison.Ordinal);
        AssertNextOpWorks();
    }

    [Fact]
    public void TCPStore_ClientWithNoMaster_ThrowsDistributedExceptionAfterTheTimeout()
    {
        var port = FreePort();
        var clock = Stopwatch.StartNew();
        var error = Bounded(() => Assert.Throws<TorchDistributedException>(
            () => new TCPStore("127.0.0.1", port, world_size: 2, is_master: false, timeout: Short)));
        output.WriteLine($"after {clock.ElapsedMilliseconds} ms: {error.Message}");
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, Short + TimeSpan.FromSeconds(15));
        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        AssertNextOpWorks();
    }

    [Fact]
    public void AllReduce_PeerInTheGroupButSilent_ThrowsDistributedExceptionAfterTheGroupTimeout()
    {
        var groupTimeout = TimeSpan.FromSeconds(3);
        var (elapsed, worker) = TwoRanks.Run("silent_peer", pg =>
        {
            using var t = ones([4]);
            var clock = Stopwatch.StartNew();
            var error = Assert.Throws<TorchDistributedException>(() => pg.all_reduce(t));
            output.WriteLine($"after {clock.ElapsedMilliseconds} ms: {error.Message}");
            return clock.Elapsed;
        }, groupTimeout);
        worker.Dispose(); // still sleeping: killed
        Assert.InRange(elapsed, groupTimeout * 0.9, groupTimeout + TimeSpan.FromSeconds(15));
        AssertNextOpWorks();
    }

    [Fact]
    public void AllReduce_PeerProcessDies_ThrowsDistributedExceptionWithoutWaitingForTheTimeout()
    {
        var groupTimeout = TimeSpan.FromSeconds(60);
        var (elapsed, worker) = TwoRanks.Run("peer_lost", pg =>
        {
            using var t = ones([4]);
            var clock = Stopwatch.StartNew();
            var error = Assert.Throws<TorchDistributedException>(() => pg.all_reduce(t));
            output.WriteLine($"after {clock.ElapsedMilliseconds} ms: {error.Message}");
            return clock.Elapsed;
        }, groupTimeout);
        using (worker)
            Assert.Equal(TwoRanks.DeliberateExit, worker.WaitForExit(TwoRanks.Limit));
        Assert.True(elapsed < TimeSpan.FromSeconds(20), $"the lost peer was noticed only after {elapsed}");
        AssertNextOpWorks();
    }

    /// <summary>Runs body on another thread and fails the test, rather than hang, if it takes over a minute.</summary>
    private static T Bounded<T>(Func<T> body)
    {
        var task = Task.Run(body);
        Assert.True(task.Wait(TimeSpan.FromSeconds(60)), "the operation hung for over 60 s");
        return task.GetAwaiter().GetResult();
    }

    /// <summary>A fresh one-rank group all-reduces, and tensors still compute.</summary>
    private static void AssertNextOpWorks()
    {
        Bounded(() =>
        {
            using var store = new TCPStore("127.0.0.1", 0, world_size: 1, is_master: true, timeout: TimeSpan.FromSeconds(10));
            using var pg = new_group_gloo(store, rank: 0, world_size: 1, timeout: TimeSpan.FromSeconds(10));
            using var t = tensor(new float[] { 1, 2, 3 });
            pg.all_reduce(t);
            using var doubled = t * 2;
            Assert.Equal([2f, 4f, 6f], doubled.data<float>());
            return 0;
        });
    }

    internal static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
