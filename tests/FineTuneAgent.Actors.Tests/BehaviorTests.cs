namespace FineTuneAgent.Actors.Tests;

public sealed class BehaviorTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly ActorSystem _system = ActorSystem.Create("behavior");

    public void Dispose() => _system.Dispose();

    [Fact]
    public async Task ReceiveAsync_SuspendsTheMailboxUntilTheHandlerCompletes()
    {
        var log = new EventLog();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var actor = _system.ActorOf(Props.Create(() => new AsyncWorker(log, gate.Task)));

        actor.Tell(new Work("job"));
        actor.Tell("after-1");
        actor.Tell("after-2");
        await log.WaitForAsync("start job");
        log.Add("gate opened");
        gate.SetResult();

        Assert.Equal("done", await actor.Ask<string>("ping?", Patience));
        Assert.Equal(["constructed 1", "start job", "gate opened", "end job", "after-1", "after-2", "ping?"], log.Snapshot());
    }

    [Fact]
    public async Task ReceiveAsync_KeepsTheSenderAcrossAwaits_AndAFailureRestartsTheActor()
    {
        var log = new EventLog();
        var actor = _system.ActorOf(Props.Create(() => new AsyncWorker(log, Task.CompletedTask)));

        Assert.Equal("job finished", await actor.Ask<string>(new Work("job"), Patience));

        actor.Tell(new Work("explode"));
        await log.WaitForAsync("constructed 2");
        Assert.Equal("job finished", await actor.Ask<string>(new Work("job"), Patience));
    }

    [Fact]
    public async Task Become_AndBecomeStacked_SwitchBehaviours()
    {
        var actor = _system.ActorOf(Props.Create(() => new Switch()));

        Assert.Equal("off", await actor.Ask<string>("state?", Patience));
        actor.Tell("flip");
        Assert.Equal("on", await actor.Ask<string>("state?", Patience));
        actor.Tell("push");
        Assert.Equal("pushed", await actor.Ask<string>("state?", Patience));
        actor.Tell("pop");
        Assert.Equal("on", await actor.Ask<string>("state?", Patience));
        actor.Tell("flip");
        Assert.Equal("off", await actor.Ask<string>("state?", Patience));
    }

    [Fact]
    public async Task UntypedActor_BecomeAndUnhandled()
    {
        var actor = _system.ActorOf(Props.Create(() => new Toggle()));

        Assert.Equal("a", await actor.Ask<string>("which?", Patience));
        actor.Tell("toggle");
        Assert.Equal("b", await actor.Ask<string>("which?", Patience));
        await Assert.ThrowsAsync<AskTimeoutException>(() => actor.Ask<string>(1, TimeSpan.FromMilliseconds(50)));
    }

    [Fact]
    public async Task PipeTo_DeliversTheResultOrAFailure()
    {
        var probe = new Probe(_system);

        _ = Task.Run(() => 6 * 7).PipeTo(probe.Ref);
        Assert.Equal(42, await probe.ExpectMsgAsync<int>());

        _ = Task.FromException<int>(new TimeoutException("slow")).PipeTo(probe.Ref);
        var failure = await probe.ExpectMsgAsync<Status.Failure>();
        Assert.IsType<TimeoutException>(failure.Cause);
    }

    private sealed record Work(string Name);

    private sealed class AsyncWorker : ReceiveActor
    {
        public AsyncWorker(EventLog log, Task gate)
        {
            var instance = log.Snapshot().Count(e => e.StartsWith("constructed", StringComparison.Ordinal)) + 1;
            log.Add($"constructed {instance}");
            ReceiveAsync<Work>(async w =>
            {
                log.Add($"start {w.Name}");
                await gate;
                await Task.Yield();
                await Task.Delay(1);
                if (w.Name == "explode")
                {
                    throw new InvalidOperationException("async failure");
                }
                log.Add($"end {w.Name}");
                Sender.Tell($"{w.Name} finished");
            });
            Receive<string>(s => s.EndsWith('?'), s =>
            {
                log.Add(s);
                Sender.Tell("done");
            });
            Receive<string>(log.Add);
        }
    }

    private sealed class Switch : ReceiveActor
    {
        public Switch() => Off();

        private void Off()
        {
            Receive<string>(s => s == "flip", _ => Become(On));
            Receive<string>(s => s == "state?", _ => Sender.Tell("off"));
        }

        private void On()
        {
            Receive<string>(s => s == "flip", _ => Become(Off));
            Receive<string>(s => s == "push", _ => BecomeStacked(() =>
            {
                Receive<string>(s => s == "pop", _ => UnbecomeStacked());
                Receive<string>(s => s == "state?", _ => Sender.Tell("pushed"));
            }));
            Receive<string>(s => s == "state?", _ => Sender.Tell("on"));
        }
    }

    private sealed class Toggle : UntypedActor
    {
        protected override void OnReceive(object message) => A(message);

        private void A(object message)
        {
            switch (message)
            {
                case "which?":
                    Sender.Tell("a");
                    break;
                case "toggle":
                    Become(B);
                    break;
                default:
                    Unhandled(message);
                    break;
            }
        }

        private void B(object message)
        {
            if (message is "which?")
            {
                Sender.Tell("b");
            }
            else
            {
                Unhandled(message);
            }
        }
    }
}
