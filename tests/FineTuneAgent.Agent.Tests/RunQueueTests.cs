using FineTuneAgent.Agent.Daemon;

namespace FineTuneAgent.Agent.Tests;

/// <summary>The agent's queue: order, one run per empty device, sharing a GPU only when the estimates say both fit, the CPU never shared.</summary>
public sealed class RunQueueTests
{
    private const long GiB = 1L << 30;

    private static List<(string Run, string Device)> Start(RunQueue queue) => queue.TakeStartable().Select(s => (s.Run.RunId, s.Device)).ToList();

    [Fact]
    public void OnTheCpu_RunsGoOneAtATime_InTheOrderSubmitted()
    {
        var queue = new RunQueue([new DeviceSlot("cpu", 20 * GiB, Shareable: false)]);
        Assert.Equal(1, queue.Enqueue(new QueuedRun("a", 1 * GiB)));
        Assert.Equal(2, queue.Enqueue(new QueuedRun("b", 1 * GiB)));
        Assert.Equal(3, queue.Enqueue(new QueuedRun("c", null)));
        Assert.Equal([("a", "cpu")], Start(queue));
        Assert.Empty(Start(queue)); // b would fit in memory, but the CPU is not shared
        Assert.Equal(1, queue.PositionOf("b"));
        Assert.Equal("cpu", queue.DeviceOf("a"));
        Assert.True(queue.Finished("a"));
        Assert.Equal([("b", "cpu")], Start(queue));
        queue.Finished("b");
        Assert.Equal([("c", "cpu")], Start(queue));
    }

    [Fact]
    public void AGpuTakesASecondRun_OnlyWhenBothEstimatesFitItsBudget()
    {
        var queue = new RunQueue([new DeviceSlot("cuda:0", 22 * GiB, Shareable: true)]);
        queue.Enqueue(new QueuedRun("lora-7b", 12 * GiB));
        queue.Enqueue(new QueuedRun("qlora-7b", 6 * GiB));   // 12 + 6 ≤ 22: joins
        queue.Enqueue(new QueuedRun("lora-13b", 20 * GiB));  // 18 + 20 > 22: waits
        queue.Enqueue(new QueuedRun("tiny", 1 * GiB));       // would fit, but does not overtake the 13B
        Assert.Equal([("lora-7b", "cuda:0"), ("qlora-7b", "cuda:0")], Start(queue));
        queue.Finished("lora-7b");
        Assert.Empty(Start(queue)); // 6 + 20 > 22 still
        queue.Finished("qlora-7b");
        Assert.Equal([("lora-13b", "cuda:0"), ("tiny", "cuda:0")], Start(queue)); // 20 + 1 ≤ 22
    }

    [Fact]
    public void AnUnknownEstimate_NeverShares_AndAnEmptyDeviceIsPreferred()
    {
        var queue = new RunQueue([new DeviceSlot("cuda:0", 22 * GiB, true), new DeviceSlot("cuda:1", 46 * GiB, true)]);
        queue.Enqueue(new QueuedRun("big", 40 * GiB));
        queue.Enqueue(new QueuedRun("unknown", null));
        queue.Enqueue(new QueuedRun("small", 2 * GiB));
        queue.Enqueue(new QueuedRun("small-2", 2 * GiB));
        // The emptiest device with the most memory first; then the other empty one; then sharing only beside known estimates.
        Assert.Equal([("big", "cuda:1"), ("unknown", "cuda:0"), ("small", "cuda:1"), ("small-2", "cuda:1")], Start(queue));
        Assert.Equal("cuda:1", queue.DeviceOf("small-2"));
    }

    [Fact]
    public void AWaitingRunCanBeRemoved_AndARunIsQueuedOnce()
    {
        var queue = new RunQueue([new DeviceSlot("cpu", 0, false)]);
        queue.Enqueue(new QueuedRun("a", null));
        queue.Enqueue(new QueuedRun("b", null));
        Assert.Throws<InvalidOperationException>(() => queue.Enqueue(new QueuedRun("b", null)));
        Assert.True(queue.RemoveWaiting("b"));
        Assert.False(queue.RemoveWaiting("b"));
        Assert.Null(queue.PositionOf("b"));
        Assert.Equal([("a", "cpu")], Start(queue));
        Assert.Throws<InvalidOperationException>(() => queue.Enqueue(new QueuedRun("a", null)));
        Assert.Throws<ArgumentException>(() => new RunQueue([]));
    }
}
