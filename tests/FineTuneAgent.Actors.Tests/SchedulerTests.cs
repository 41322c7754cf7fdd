namespace FineTuneAgent.Actors.Tests;

public sealed class SchedulerTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("scheduler");

    public void Dispose() => _system.Dispose();

    [Fact]
    public async Task ScheduleTellOnce_DeliversOnceWithTheSender()
    {
        var probe = new Probe(_system);

        _system.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(20), probe.Ref, "wake up", _system.DeadLetters);
        _system.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(200), probe.Ref, "later", ActorRefs.NoSender);

        Assert.Equal("wake up", await probe.ExpectMsgAsync<string>());
        Assert.Equal("later", await probe.ExpectMsgAsync<string>());
    }

    [Fact]
    public async Task ScheduleTellOnce_Cancelled_DeliversNothing()
    {
        var probe = new Probe(_system);

        var cancelled = _system.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(30), probe.Ref, "never", ActorRefs.NoSender);
        cancelled.Cancel();
        _system.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(100), probe.Ref, "after", ActorRefs.NoSender);

        Assert.True(cancelled.IsCancellationRequested);
        Assert.Equal("after", await probe.ExpectMsgAsync<string>());
    }

    [Fact]
    public async Task ScheduleTellRepeatedly_RepeatsUntilCancelled()
    {
        var probe = new Probe(_system);
        var ticks = _system.Scheduler.ScheduleTellRepeatedly(
            TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(10), probe.Ref, "tick", ActorRefs.NoSender);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("tick", await probe.ExpectMsgAsync<string>());
        }

        ticks.Cancel();
        _system.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(200), probe.Ref, "end", ActorRefs.NoSender);

        // At most one tick was already on its way when Cancel returned; then nothing but "end".
        var next = await probe.ExpectMsgAsync<string>();
        if (next == "tick")
        {
            next = await probe.ExpectMsgAsync<string>();
        }
        Assert.Equal("end", next);
    }

    [Fact]
    public async Task ReceiveTimeout_ArrivesWhenIdle()
    {
        var probe = new Probe(_system);
        _system.ActorOf(Props.Create(() => new Idle(probe.Ref)));

        Assert.Equal("idle", await probe.ExpectMsgAsync<string>());
    }

    private sealed class Idle : ReceiveActor
    {
        public Idle(IActorRef report)
        {
            SetReceiveTimeout(TimeSpan.FromMilliseconds(20));
            Receive<ReceiveTimeout>(_ =>
            {
                report.Tell("idle");
                SetReceiveTimeout(null);
            });
        }
    }
}
