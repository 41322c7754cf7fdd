using System.Text.RegularExpressions;
using FineTuneAgent.Actors.Dispatch;
using FineTuneAgent.Actors.Event;

namespace FineTuneAgent.Actors;

/// <summary>
/// A hierarchy of actors with its dispatcher, event stream, scheduler and dead letters, as Akka's
/// ActorSystem. Top-level actors are children of the user guardian (<c>/user</c>), which
/// supervises them; <see cref="Terminate"/> stops the guardian, and with it every actor, children
/// first.
/// </summary>
public sealed partial class ActorSystem : IDisposable
{
    private readonly TaskCompletionSource _terminated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TimerScheduler _scheduler = new();
    private readonly ActorCell _guardian;
    private long _lastTempId;

    private ActorSystem(string name, ActorSystemSettings settings)
    {
        Name = name;
        Settings = settings;
        var root = ActorPath.Root(name);
        EventStream = new EventStream();
        DeadLetters = new DeadLetterActorRef(EventStream, root / "deadLetters");
        Dispatcher = new Dispatcher(settings.Throughput);
        var guardianProps = Props.Create<GuardianActor>().WithSupervisorStrategy(settings.GuardianSupervisorStrategy);
        _guardian = new ActorCell(this, guardianProps, parent: null, (root / "user").WithUid(NewUid()));
        _guardian.Start();
    }

    public static ActorSystem Create(string name) => Create(name, ActorSystemSettings.Default);

    public static ActorSystem Create(string name, ActorSystemSettings settings)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(settings);
        if (!ValidName().IsMatch(name))
        {
            throw new ArgumentException(
                $"Invalid actor system name [{name}]: letters, digits, '-' and '_', starting with a letter or digit.", nameof(name));
        }
        return new ActorSystem(name, settings);
    }

    public string Name { get; }

    public ActorSystemSettings Settings { get; }

    public EventStream EventStream { get; }

    /// <summary>Whatever is told to it is published on the <see cref="EventStream"/> as a <see cref="DeadLetter"/>.</summary>
    public IActorRef DeadLetters { get; }

    public IScheduler Scheduler => _scheduler;

    /// <summary>Completes once every actor has stopped.</summary>
    public Task WhenTerminated => _terminated.Task;

    internal Dispatcher Dispatcher { get; }

    /// <summary>Creates a top-level actor, supervised by the user guardian.</summary>
    public IActorRef ActorOf(Props props, string? name = null) => _guardian.ActorOf(props, name);

    /// <summary>Stops an actor asynchronously (after the message it is processing).</summary>
    public void Stop(IActorRef actor) => (actor as IInternalActorRef)?.Stop();

    /// <summary>Stops every actor, children before parents; the task completes when all have stopped.</summary>
    public Task Terminate()
    {
        _guardian.Self.Stop();
        return WhenTerminated;
    }

    /// <summary>Terminates and waits up to <see cref="ActorSystemSettings.DisposeTimeout"/>.</summary>
    public void Dispose() => Terminate().Wait(Settings.DisposeTimeout);

    public override string ToString() => $"akka://{Name}";

    internal static long NewUid()
    {
        long uid;
        do
        {
            uid = Random.Shared.NextInt64(int.MinValue, int.MaxValue);
        }
        while (uid == 0);
        return uid;
    }

    internal ActorPath NewTempPath() =>
        ActorPath.Root(Name) / "temp" / ("$" + Interlocked.Increment(ref _lastTempId).ToString(System.Globalization.CultureInfo.InvariantCulture));

    internal void OnGuardianTerminated()
    {
        _scheduler.Dispose();
        _terminated.TrySetResult();
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]*$")]
    private static partial Regex ValidName();
}
