using FineTuneAgent.Actors.Event;

namespace FineTuneAgent.Actors.Tests;

public sealed class EventStreamTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("events");

    public void Dispose() => _system.Dispose();

    [Fact]
    public async Task TellToAStoppedActor_IsPublishedAsDeadLetter()
    {
        var probe = new Probe(_system);
        _system.EventStream.Subscribe(probe.Ref, typeof(DeadLetter));
        var target = _system.ActorOf(Props.Create(() => new Quiet()));
        await probe.WatchAsync(target);
        _system.Stop(target);
        await probe.ExpectTerminatedAsync(target);

        target.Tell("too late", probe.Ref);

        var dead = await probe.FishForAsync<DeadLetter>();
        Assert.Equal("too late", dead.Message);
        Assert.Equal(probe.Ref, dead.Sender);
        Assert.Equal(target, dead.Recipient);
    }

    [Fact]
    public async Task AReplyToNoSender_IsPublishedAsDeadLetter()
    {
        var probe = new Probe(_system);
        _system.EventStream.Subscribe(probe.Ref, typeof(DeadLetter));
        var replier = _system.ActorOf(Props.Create(() => new Quiet()));

        replier.Tell(7, ActorRefs.NoSender);

        var dead = await probe.FishForAsync<DeadLetter>();
        Assert.Equal("reply to 7", dead.Message);
        Assert.Equal(_system.DeadLetters, dead.Recipient);
        Assert.Equal(replier, dead.Sender);
    }

    [Fact]
    public async Task AnUnhandledMessage_IsPublishedAsUnhandledMessage()
    {
        var probe = new Probe(_system);
        _system.EventStream.Subscribe(probe.Ref, typeof(UnhandledMessage));
        var quiet = _system.ActorOf(Props.Create(() => new Quiet()));

        quiet.Tell(3.5, probe.Ref);

        var unhandled = await probe.FishForAsync<UnhandledMessage>();
        Assert.Equal(3.5, unhandled.Message);
        Assert.Equal(quiet, unhandled.Recipient);
        Assert.Equal(probe.Ref, unhandled.Sender);
    }

    [Fact]
    public async Task Publish_ReachesSubscribersOfTheTypeAndItsBaseTypes_UntilUnsubscribed()
    {
        var byBase = new Probe(_system);
        var byExact = new Probe(_system);
        Assert.True(_system.EventStream.Subscribe(byBase.Ref, typeof(Animal)));
        Assert.False(_system.EventStream.Subscribe(byBase.Ref, typeof(Animal)));
        _system.EventStream.Subscribe(byExact.Ref, typeof(Cat));

        _system.EventStream.Publish(new Dog("rex"));
        _system.EventStream.Publish(new Cat("tom"));
        Assert.True(_system.EventStream.Unsubscribe(byExact.Ref, typeof(Cat)));
        _system.EventStream.Publish(new Cat("felix"));
        byExact.Ref.Tell("marker", ActorRefs.NoSender);

        Assert.Equal(new Dog("rex"), await byBase.ExpectMsgAsync<Dog>());
        Assert.Equal(new Cat("tom"), await byBase.ExpectMsgAsync<Cat>());
        Assert.Equal(new Cat("felix"), await byBase.ExpectMsgAsync<Cat>());
        Assert.Equal(new Cat("tom"), await byExact.ExpectMsgAsync<Cat>());
        Assert.Equal("marker", await byExact.ExpectMsgAsync<string>());
    }

    private abstract record Animal(string Name);

    private sealed record Dog(string Name) : Animal(Name);

    private sealed record Cat(string Name) : Animal(Name);

    private sealed class Quiet : ReceiveActor
    {
        public Quiet()
        {
            Receive<int>(i => Sender.Tell($"reply to {i}"));
            Receive<string>(_ => { });
        }
    }
}
