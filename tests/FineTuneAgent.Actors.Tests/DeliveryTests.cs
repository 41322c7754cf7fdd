namespace FineTuneAgent.Actors.Tests;

public sealed class DeliveryTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly ActorSystem _system = ActorSystem.Create("delivery");

    public void Dispose() => _system.Dispose();

    [Fact]
    public async Task ConcurrentSenders_EachSendersOrderIsKept_AndNothingIsLost()
    {
        const int senders = 4;
        const int perSender = 25_000;
        var done = new TaskCompletionSource<Tally>(TaskCreationOptions.RunContinuationsAsynchronously);
        var tally = _system.ActorOf(Props.Create(() => new SequenceChecker(senders, senders * perSender, done)));

        var threads = Enumerable.Range(0, senders).Select(s => new Thread(() =>
        {
            for (var i = 0; i < perSender; i++)
            {
                tally.Tell(new Numbered(s, i), ActorRefs.NoSender);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        var result = await done.Task.WaitAsync(Patience);
        Assert.Equal(0, result.OutOfOrder);
        Assert.Equal(Enumerable.Repeat(perSender, senders), result.PerSender);
    }

    [Fact]
    public async Task OneMillionMessages_AllArrive()
    {
        const int total = 1_000_000;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var counter = _system.ActorOf(Props.Create(() => new CountTo(total, done)));

        for (var i = 0; i < total; i++)
        {
            counter.Tell(i, ActorRefs.NoSender);
        }

        await done.Task.WaitAsync(Patience);
        Assert.Equal(total, await counter.Ask<int>("count", Patience));
    }

    [Fact]
    public async Task MessagesToOneActor_AreNeverProcessedConcurrently()
    {
        const int total = 20_000;
        var done = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var actor = _system.ActorOf(Props.Create(() => new OverlapDetector(total, done)));

        Parallel.For(0, total, i => actor.Tell(i, ActorRefs.NoSender));

        Assert.Equal(0, await done.Task.WaitAsync(Patience));
    }

    private sealed record Numbered(int Sender, int Sequence);

    private sealed record Tally(int OutOfOrder, int[] PerSender);

    private sealed class SequenceChecker : ReceiveActor
    {
        public SequenceChecker(int senders, int total, TaskCompletionSource<Tally> done)
        {
            var next = new int[senders];
            var outOfOrder = 0;
            var received = 0;
            Receive<Numbered>(n =>
            {
                if (n.Sequence != next[n.Sender])
                {
                    outOfOrder++;
                }
                next[n.Sender] = n.Sequence + 1;
                if (++received == total)
                {
                    done.TrySetResult(new Tally(outOfOrder, next));
                }
            });
        }
    }

    private sealed class CountTo : ReceiveActor
    {
        public CountTo(int total, TaskCompletionSource done)
        {
            var count = 0;
            Receive<int>(_ =>
            {
                if (++count == total)
                {
                    done.TrySetResult();
                }
            });
            Receive<string>(_ => Sender.Tell(count));
        }
    }

    private sealed class OverlapDetector : ReceiveActor
    {
        private int _inside;

        public OverlapDetector(int total, TaskCompletionSource<int> done)
        {
            var overlaps = 0;
            var received = 0;
            Receive<int>(_ =>
            {
                if (Interlocked.Increment(ref _inside) != 1)
                {
                    overlaps++;
                }
                Thread.SpinWait(200);
                Interlocked.Decrement(ref _inside);
                if (++received == total)
                {
                    done.TrySetResult(overlaps);
                }
            });
        }
    }
}
