namespace FineTuneAgent.Actors.Tests;

public sealed class DeathWatchTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("deathwatch");
    private readonly EventLog _log = new();

    public void Dispose() => _system.Dispose();

    [Fact]
    public async Task Watch_DeliversTerminatedWithTheDeadActorAsSender()
    {
        var watcher = _system.ActorOf(Props.Create(() => new Watcher()));
        var target = _system.ActorOf(Counter.Props(_log, "t"));
        var probe = new Probe(_system);
        watcher.Tell(new Watch(target, probe.Ref));

        _system.Stop(target);

        var report = await probe.ExpectMsgAsync<Reported>();
        Assert.Equal(target, report.Terminated.ActorRef);
        Assert.Equal(target, report.Sender);
        Assert.True(report.Terminated.ExistenceConfirmed);
    }

    [Fact]
    public async Task Watch_OfAnAlreadyDeadActor_DeliversTerminated()
    {
        var probe = new Probe(_system);
        var target = _system.ActorOf(Counter.Props(_log, "t"));
        await probe.WatchAsync(target);
        _system.Stop(target);
        await probe.ExpectTerminatedAsync(target);

        var watcher = _system.ActorOf(Props.Create(() => new Watcher()));
        watcher.Tell(new Watch(target, probe.Ref));

        Assert.Equal(target, (await probe.ExpectMsgAsync<Reported>()).Terminated.ActorRef);
    }

    [Fact]
    public async Task Unwatch_AfterTerminatedWasQueued_DropsIt()
    {
        var probe = new Probe(_system);
        var target = _system.ActorOf(Counter.Props(_log, "t"));
        var watcher = _system.ActorOf(Props.Create(() => new Watcher()));
        watcher.Tell(new Watch(target, probe.Ref));
        // Stop the target and block the watcher until the target is dead, so its Terminated is
        // queued behind the Unwatch.
        var targetDead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await probe.WatchAsync(target);
        watcher.Tell(new BlockUntil(targetDead.Task));
        watcher.Tell(new UnwatchIt(target));
        watcher.Tell("ping", probe.Ref);
        _system.Stop(target);
        await probe.ExpectTerminatedAsync(target);
        targetDead.SetResult();

        Assert.Equal("pong", await probe.ExpectMsgAsync<string>());
        var other = _system.ActorOf(Counter.Props(_log, "o"));
        watcher.Tell(new Watch(other, probe.Ref));
        _system.Stop(other);
        // The next report is the other actor's: the first target's Terminated was dropped.
        Assert.Equal(other, (await probe.ExpectMsgAsync<Reported>()).Terminated.ActorRef);
    }

    [Fact]
    public async Task UnhandledTerminated_FailsTheWatcherWithDeathPact_AndTheDefaultStrategyStopsIt()
    {
        var probe = new Probe(_system);
        var target = _system.ActorOf(Counter.Props(_log, "t"));
        var watcher = _system.ActorOf(Props.Create(() => new CarelessWatcher(target)));
        await probe.WatchAsync(watcher);

        _system.Stop(target);

        await probe.ExpectTerminatedAsync(watcher);
    }

    private sealed record Watch(IActorRef Target, IActorRef ReportTo);

    private sealed record UnwatchIt(IActorRef Target);

    private sealed record BlockUntil(Task Gate);

    private sealed record Reported(Terminated Terminated, IActorRef Sender);

    private sealed class Watcher : ReceiveActor
    {
        private IActorRef _reportTo = ActorRefs.Nobody;

        public Watcher()
        {
            Receive<Watch>(w =>
            {
                _reportTo = w.ReportTo;
                Context.Watch(w.Target);
            });
            Receive<UnwatchIt>(u => Context.Unwatch(u.Target));
            Receive<BlockUntil>(b => b.Gate.Wait(TimeSpan.FromSeconds(10)));
            Receive<string>(_ => Sender.Tell("pong"));
            Receive<Terminated>(t => _reportTo.Tell(new Reported(t, Sender)));
        }
    }

    private sealed class CarelessWatcher : ReceiveActor
    {
        public CarelessWatcher(IActorRef target)
        {
            Context.Watch(target);
            Receive<string>(_ => { });
        }
    }
}
