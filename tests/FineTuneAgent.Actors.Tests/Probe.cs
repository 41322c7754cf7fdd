using System.Threading.Channels;

namespace FineTuneAgent.Actors.Tests;

/// <summary>
/// A test's ears inside the system (a small TestProbe): an actor that hands every message it
/// receives to the test, and watches actors on request. Waits are bounded (10 s) only so a bug
/// cannot hang the run; no assertion depends on how fast anything is.
/// </summary>
internal sealed class Probe
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly Channel<object> _received = Channel.CreateUnbounded<object>();
    private readonly List<object> _skipped = [];

    public Probe(ActorSystem system)
    {
        var writer = _received.Writer;
        Ref = system.ActorOf(Props.Create(() => new ProbeActor(writer)));
    }

    public IActorRef Ref { get; }

    /// <summary>
    /// Watches <paramref name="target"/>; its <see cref="Terminated"/> arrives like any message.
    /// Completes once the watch request is on its way to the target, so a stop requested
    /// afterwards reaches the target after it.
    /// </summary>
    public Task WatchAsync(IActorRef target) => Ref.Ask<WatchTarget>(new WatchTarget(target), Patience);

    /// <summary>The next message (the oldest one a fish skipped, if any) must be a <typeparamref name="T"/>.</summary>
    public async Task<T> ExpectMsgAsync<T>()
    {
        object message;
        if (_skipped.Count > 0)
        {
            message = _skipped[0];
            _skipped.RemoveAt(0);
        }
        else
        {
            message = await _received.Reader.ReadAsync().AsTask().WaitAsync(Patience);
        }
        return Assert.IsType<T>(message);
    }

    /// <summary>
    /// The first message that is a <typeparamref name="T"/> matching <paramref name="match"/>;
    /// the others stay for later expectations.
    /// </summary>
    public async Task<T> FishForAsync<T>(Func<T, bool>? match = null)
    {
        bool Matches(object m) => m is T typed && (match is null || match(typed));
        var index = _skipped.FindIndex(Matches);
        if (index >= 0)
        {
            var found = (T)_skipped[index];
            _skipped.RemoveAt(index);
            return found;
        }
        while (true)
        {
            var message = await _received.Reader.ReadAsync().AsTask().WaitAsync(Patience);
            if (Matches(message))
            {
                return (T)message;
            }
            _skipped.Add(message);
        }
    }

    public async Task<Terminated> ExpectTerminatedAsync(IActorRef actor) =>
        await FishForAsync<Terminated>(t => t.ActorRef.Equals(actor));

    private sealed record WatchTarget(IActorRef Target);

    private sealed class ProbeActor : ReceiveActor
    {
        public ProbeActor(ChannelWriter<object> writer)
        {
            Receive<WatchTarget>(w =>
            {
                Context.Watch(w.Target);
                Sender.Tell(w);
            });
            ReceiveAny(m => writer.TryWrite(m));
        }
    }
}
