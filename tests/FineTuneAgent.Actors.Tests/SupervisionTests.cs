using FineTuneAgent.Actors.Event;

namespace FineTuneAgent.Actors.Tests;

public sealed class SupervisionTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly ActorSystem _system = ActorSystem.Create("supervision");
    private readonly EventLog _log = new();

    public void Dispose() => _system.Dispose();

    private async Task<IActorRef> CounterUnder(SupervisorStrategy strategy, string name = "c")
    {
        var parent = _system.ActorOf(Supervisor.Props(strategy));
        return await Supervisor.StartChildAsync(parent, Counter.Props(_log, name), name);
    }

    [Fact]
    public async Task Resume_KeepsStateAndInstance()
    {
        var counter = await CounterUnder(new OneForOneStrategy(_ => Directive.Resume));

        counter.Tell("inc");
        counter.Tell("inc");
        counter.Tell(new Fail(new InvalidOperationException("boom")));
        counter.Tell("inc");

        Assert.Equal(3, await counter.Ask<int>("get", Patience));
        Assert.Equal(["c ctor 1", "c PreStart 1"], _log.Snapshot());
    }

    [Fact]
    public async Task Restart_ResetsStateAndCallsHooksInAkkaOrder()
    {
        var counter = await CounterUnder(new OneForOneStrategy(_ => Directive.Restart));

        counter.Tell("inc");
        counter.Tell("inc");
        counter.Tell(new Fail(new InvalidOperationException("boom")));
        counter.Tell("inc");

        Assert.Equal(1, await counter.Ask<int>("get", Patience));
        Assert.Equal(
            [
                "c ctor 1", "c PreStart 1",
                "c PreRestart 1 boom Fail", "c PostStop 1",
                "c ctor 2", "c PostRestart 2 boom", "c PreStart 2",
            ],
            _log.Snapshot());
    }

    [Fact]
    public async Task Stop_StopsTheChild()
    {
        var counter = await CounterUnder(new OneForOneStrategy(_ => Directive.Stop));
        var probe = new Probe(_system);
        await probe.WatchAsync(counter);

        counter.Tell(new Fail(new InvalidOperationException("boom")));

        await probe.ExpectTerminatedAsync(counter);
        Assert.Equal(["c ctor 1", "c PreStart 1", "c PostStop 1"], _log.Snapshot());
    }

    [Fact]
    public async Task Escalate_ReachesTheGrandparentsStrategyWithTheSameException()
    {
        var seen = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        var grandparent = _system.ActorOf(Supervisor.Props(new OneForOneStrategy(e =>
        {
            seen.TrySetResult(e);
            return Directive.Stop;
        })));
        var parent = await Supervisor.StartChildAsync(grandparent,
            Supervisor.Props(new OneForOneStrategy(_ => Directive.Escalate), _log, "parent"), "parent");
        var child = await Supervisor.StartChildAsync(parent, Counter.Props(_log, "child"), "child");
        var probe = new Probe(_system);
        await probe.WatchAsync(parent);
        var failure = new InvalidOperationException("from the child");

        child.Tell(new Fail(failure));

        Assert.Same(failure, await seen.Task.WaitAsync(Patience));
        await probe.ExpectTerminatedAsync(parent);
        Assert.Equal(["child ctor 1", "child PreStart 1", "child PostStop 1", "parent PostStop"], _log.Snapshot());
    }

    [Fact]
    public async Task AllForOne_RestartsTheSiblingsToo()
    {
        var parent = _system.ActorOf(Supervisor.Props(new AllForOneStrategy(_ => Directive.Restart)));
        var a = await Supervisor.StartChildAsync(parent, Counter.Props(_log, "a"), "a");
        var b = await Supervisor.StartChildAsync(parent, Counter.Props(_log, "b"), "b");
        b.Tell("inc");
        Assert.Equal(1, await b.Ask<int>("get", Patience));

        a.Tell(new Fail(new InvalidOperationException("boom")));

        await _log.WaitForAsync("b PostRestart 2 boom");
        Assert.Equal(0, await b.Ask<int>("get", Patience));
        Assert.Contains("a PostRestart 2 boom", _log.Snapshot());
        Assert.Contains("b PreRestart 1 boom ", _log.Snapshot()); // b failed nothing: no message
    }

    [Fact]
    public async Task MaxNrOfRetries_ExceededWithinTheWindow_StopsTheChild()
    {
        var counter = await CounterUnder(new OneForOneStrategy(2, TimeSpan.FromMinutes(5), _ => Directive.Restart));
        var probe = new Probe(_system);
        await probe.WatchAsync(counter);

        counter.Tell(new Fail(new InvalidOperationException("one")));
        counter.Tell(new Fail(new InvalidOperationException("two")));
        Assert.Equal(0, await counter.Ask<int>("get", Patience)); // alive after two restarts
        counter.Tell(new Fail(new InvalidOperationException("three")));

        await probe.ExpectTerminatedAsync(counter);
        var log = _log.Snapshot();
        Assert.Equal(2, log.Count(e => e.StartsWith("c PostRestart", StringComparison.Ordinal)));
        Assert.Equal("c PostStop 3", log[^1]);
    }

    [Fact]
    public void ChildRestartStats_CountsWithinAWindowAndStartsANewOneAfterIt()
    {
        var stats = new ChildRestartStats(ActorRefs.Nobody);
        Assert.True(stats.RequestRestartPermission(1, TimeSpan.FromHours(1)));
        Assert.False(stats.RequestRestartPermission(1, TimeSpan.FromHours(1)));

        var shortWindow = new ChildRestartStats(ActorRefs.Nobody);
        Assert.True(shortWindow.RequestRestartPermission(1, TimeSpan.FromMilliseconds(1)));
        Thread.Sleep(20); // the window has passed: a new one starts
        Assert.True(shortWindow.RequestRestartPermission(1, TimeSpan.FromMilliseconds(1)));

        Assert.False(new ChildRestartStats(ActorRefs.Nobody).RequestRestartPermission(0, null));
        var unlimited = new ChildRestartStats(ActorRefs.Nobody);
        Assert.All(Enumerable.Range(0, 100), _ => Assert.True(unlimited.RequestRestartPermission(null, null)));
    }

    [Fact]
    public async Task DefaultStrategy_RestartsOnAnExceptionAndStopsOnAFailedConstructor()
    {
        var probe = new Probe(_system);
        _system.EventStream.Subscribe(probe.Ref, typeof(Error));
        var counter = _system.ActorOf(Counter.Props(_log, "c"), "c");
        counter.Tell("inc");
        counter.Tell(new Fail(new InvalidOperationException("boom")));
        Assert.Equal(0, await counter.Ask<int>("get", Patience));
        Assert.Contains("c PostRestart 2 boom", _log.Snapshot());

        var broken = _system.ActorOf(Props.Create(() => new Broken()), "broken");
        await probe.WatchAsync(broken);

        await probe.ExpectTerminatedAsync(broken);
        var error = await probe.FishForAsync<Error>(e => e.LogSource == broken.Path.ToString());
        var initialization = Assert.IsType<ActorInitializationException>(error.Cause);
        Assert.IsType<NotSupportedException>(initialization.InnerException);
    }

    [Fact]
    public async Task Kill_StopsUnderTheDefaultStrategy_PoisonPill_AfterTheMessagesBeforeIt()
    {
        var probe = new Probe(_system);
        _system.EventStream.Subscribe(probe.Ref, typeof(DeadLetter));
        var counter = _system.ActorOf(Counter.Props(_log, "c"));
        await probe.WatchAsync(counter);
        counter.Tell("inc");
        counter.Tell("get", probe.Ref);
        counter.Tell(PoisonPill.Instance);
        counter.Tell("get", probe.Ref);

        Assert.Equal(1, await probe.ExpectMsgAsync<int>());
        await probe.ExpectTerminatedAsync(counter);
        var dead = await probe.FishForAsync<DeadLetter>();
        Assert.Equal("get", dead.Message);

        var killed = _system.ActorOf(Counter.Props(_log, "k"));
        await probe.WatchAsync(killed);
        killed.Tell(Kill.Instance);
        await probe.ExpectTerminatedAsync(killed);
        Assert.DoesNotContain(_log.Snapshot(), e => e.StartsWith("k PostRestart", StringComparison.Ordinal));
    }

    private sealed class Broken : ReceiveActor
    {
        public Broken() => throw new NotSupportedException("cannot start");
    }
}
