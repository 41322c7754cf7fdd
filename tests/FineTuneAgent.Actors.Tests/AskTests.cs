namespace FineTuneAgent.Actors.Tests;

public sealed class AskTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly ActorSystem _system = ActorSystem.Create("ask");

    public void Dispose() => _system.Dispose();

    [Fact]
    public async Task Ask_ReturnsTheReply()
    {
        var echo = _system.ActorOf(Props.Create(() => new Echo()));

        Assert.Equal("hello!", await echo.Ask<string>("hello", Patience));
        Assert.Equal(42, await echo.Ask<int>(41, Patience));
    }

    [Fact]
    public async Task Ask_WithoutAReply_TimesOut()
    {
        var silent = _system.ActorOf(Props.Create(() => new Echo()));

        await Assert.ThrowsAsync<AskTimeoutException>(() => silent.Ask<string>(new Ignore(), TimeSpan.FromMilliseconds(50)));
    }

    [Fact]
    public async Task Ask_RepliedWithStatusFailure_FailsWithItsCause()
    {
        var echo = _system.ActorOf(Props.Create(() => new Echo()));

        var error = await Assert.ThrowsAsync<FormatException>(() => echo.Ask<string>(new FormatException("bad input"), Patience));
        Assert.Equal("bad input", error.Message);
    }

    [Fact]
    public async Task Ask_OfADeadActor_FailsAtOnce_AndAReplyOfTheWrongTypeFailsTheCast()
    {
        var probe = new Probe(_system);
        var echo = _system.ActorOf(Props.Create(() => new Echo()));
        await Assert.ThrowsAsync<InvalidCastException>(() => echo.Ask<int>("text", Patience));

        await probe.WatchAsync(echo);
        _system.Stop(echo);
        await probe.ExpectTerminatedAsync(echo);

        await Assert.ThrowsAsync<AskTimeoutException>(() => echo.Ask<string>("hello").WaitAsync(Patience));
    }

    private sealed record Ignore;

    private sealed class Echo : ReceiveActor
    {
        public Echo()
        {
            Receive<string>(s => Sender.Tell(s + "!"));
            Receive<int>(i => Sender.Tell(i + 1));
            Receive<Exception>(e => Sender.Tell(new Status.Failure(e)));
            Receive<Ignore>(_ => { });
        }
    }
}
