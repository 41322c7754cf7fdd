namespace FineTuneAgent.Actors.Tests;

public sealed class LifecycleTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("lifecycle");
    private readonly EventLog _log = new();

    public void Dispose() => _system.Dispose();

    [Fact]
    public async Task Stop_ChildrenStopFirst_ThenPostStop_ThenWatchersGetTerminated()
    {
        var strategy = SupervisorStrategy.DefaultStrategy;
        var parent = _system.ActorOf(Supervisor.Props(strategy, _log, "parent"), "parent");
        var child = await Supervisor.StartChildAsync(parent, Supervisor.Props(strategy, _log, "child"), "child");
        var grandchild = await Supervisor.StartChildAsync(child, Counter.Props(_log, "grandchild"), "grandchild");
        Assert.Equal("akka://lifecycle/user/parent/child/grandchild", grandchild.Path.ToString());
        var watcher = _system.ActorOf(Props.Create(() => new LoggingWatcher(_log)));
        await watcher.Ask<string>(parent, TimeSpan.FromSeconds(10)); // watching from here on

        _system.Stop(parent);

        await _log.WaitForAsync("watcher got Terminated parent");
        Assert.Equal(["grandchild PostStop 1", "child PostStop", "parent PostStop", "watcher got Terminated parent"],
            _log.Snapshot().Where(e => e.Contains("PostStop", StringComparison.Ordinal) || e.StartsWith("watcher", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Terminate_StopsEveryActorAndCompletes()
    {
        var parent = _system.ActorOf(Supervisor.Props(SupervisorStrategy.DefaultStrategy, _log, "parent"), "parent");
        await Supervisor.StartChildAsync(parent, Counter.Props(_log, "child"), "child");
        _system.ActorOf(Counter.Props(_log, "top"), "top");
        await _log.WaitForAsync("top PreStart 1");

        await _system.Terminate().WaitAsync(TimeSpan.FromSeconds(10));

        var log = _log.Snapshot();
        Assert.Contains("top PostStop 1", log);
        Assert.True(log.IndexOf("child PostStop 1") < log.IndexOf("parent PostStop"));
        Assert.True(_system.WhenTerminated.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task ChildrenAndNames_AreTrackedAndReusableAfterStop()
    {
        var probe = new Probe(_system);
        var first = _system.ActorOf(Counter.Props(_log, "n"), "n");
        Assert.Throws<InvalidActorNameException>(() => _system.ActorOf(Counter.Props(_log, "n"), "n"));
        Assert.Throws<InvalidActorNameException>(() => _system.ActorOf(Counter.Props(_log, "x"), "a/b"));
        Assert.Throws<InvalidActorNameException>(() => _system.ActorOf(Counter.Props(_log, "x"), "$reserved"));
        var generated = _system.ActorOf(Counter.Props(_log, "g"));
        Assert.StartsWith("$", generated.Path.Name, StringComparison.Ordinal);
        Assert.Equal("akka://lifecycle/user/n", first.Path.ToString());

        await probe.WatchAsync(first);
        first.Tell(PoisonPill.Instance);
        await probe.ExpectTerminatedAsync(first);
        // The guardian learns of the death just before the probe; retry until the name is free.
        IActorRef? second = null;
        for (var i = 0; second is null && i < 1000; i++)
        {
            try
            {
                second = _system.ActorOf(Counter.Props(_log, "n"), "n");
            }
            catch (InvalidActorNameException)
            {
                await Task.Delay(5);
            }
        }
        Assert.NotNull(second);
        Assert.Equal(first.Path, second.Path);
        Assert.NotEqual(first, second); // same path, another incarnation (uid)
    }

    [Fact]
    public async Task ActorCreatedWithNew_IsRejected()
    {
        var error = await Assert.ThrowsAsync<ActorInitializationException>(() => Task.Run(() => new Counter(_log, "loose")));
        Assert.Contains("ActorOf", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Watches the actor it is sent, replies "watching", and logs the Terminated it gets.</summary>
    private sealed class LoggingWatcher : ReceiveActor
    {
        public LoggingWatcher(EventLog log)
        {
            Receive<IActorRef>(target =>
            {
                Context.Watch(target);
                Sender.Tell("watching");
            });
            Receive<Terminated>(t => log.Add($"watcher got Terminated {t.ActorRef.Path.Name}"));
        }
    }
}
