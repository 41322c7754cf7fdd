using FineTuneAgent.Actors.Dispatch;
using FineTuneAgent.Actors.Event;

namespace FineTuneAgent.Actors;

/// <summary>
/// How a parent handles a failed child, as Akka's SupervisorStrategy: the decider maps the
/// exception to a <see cref="Directive"/>, and the strategy applies it to the child
/// (<see cref="OneForOneStrategy"/>) or to all children (<see cref="AllForOneStrategy"/>).
/// Restarts beyond <see cref="MaxNrOfRetries"/> within <see cref="WithinTimeRange"/> stop the
/// child instead.
/// </summary>
public abstract class SupervisorStrategy
{
    /// <summary>Akka's default: initialization, kill and death-pact failures stop; anything else restarts.</summary>
    public static readonly SupervisorStrategy DefaultStrategy = new OneForOneStrategy(DefaultDecider);

    /// <summary>Stops a child on any failure.</summary>
    public static readonly SupervisorStrategy StoppingStrategy = new OneForOneStrategy(_ => Directive.Stop);

    protected SupervisorStrategy(int? maxNrOfRetries, TimeSpan? withinTimeRange, Func<Exception, Directive> decider, bool loggingEnabled)
    {
        ArgumentNullException.ThrowIfNull(decider);
        MaxNrOfRetries = maxNrOfRetries;
        WithinTimeRange = withinTimeRange;
        Decider = decider;
        LoggingEnabled = loggingEnabled;
    }

    public Func<Exception, Directive> Decider { get; }

    /// <summary>Restarts allowed (per window, if <see cref="WithinTimeRange"/> is set); null for no limit.</summary>
    public int? MaxNrOfRetries { get; }

    public TimeSpan? WithinTimeRange { get; }

    /// <summary>Whether failures are published on the event stream as Error (Warning for Resume).</summary>
    public bool LoggingEnabled { get; }

    public static Directive DefaultDecider(Exception exception) => exception switch
    {
        ActorInitializationException => Directive.Stop,
        ActorKilledException => Directive.Stop,
        DeathPactException => Directive.Stop,
        _ => Directive.Restart,
    };

    /// <summary>Applies Restart (<paramref name="restart"/>) or Stop to the failed child, and to its siblings if the strategy says so.</summary>
    public abstract void ProcessFailure(IActorContext context, bool restart, IActorRef child, Exception cause,
        ChildRestartStats stats, IReadOnlyList<ChildRestartStats> children);

    /// <summary>Decides and applies; false means Escalate.</summary>
    internal bool HandleFailure(IActorContext context, IActorRef child, Exception cause, ChildRestartStats stats,
        IReadOnlyList<ChildRestartStats> children)
    {
        var directive = Decider(cause);
        if (directive != Directive.Escalate)
        {
            LogFailure(context, child, cause, directive);
        }
        switch (directive)
        {
            case Directive.Resume:
                ((IInternalActorRef)child).SendSystemMessage(new Resume(CausedByFailure: true));
                return true;
            case Directive.Restart:
                ProcessFailure(context, restart: true, child, cause, stats, children);
                return true;
            case Directive.Stop:
                ProcessFailure(context, restart: false, child, cause, stats, children);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Restarts a child; a sibling that did not fail is suspended first (AllForOne).</summary>
    protected static void RestartChild(IActorRef child, Exception cause, bool suspendFirst)
    {
        var target = (IInternalActorRef)child;
        if (suspendFirst)
        {
            target.SendSystemMessage(new Suspend());
        }
        target.SendSystemMessage(new Recreate(cause));
    }

    private void LogFailure(IActorContext context, IActorRef child, Exception cause, Directive directive)
    {
        if (!LoggingEnabled)
        {
            return;
        }
        var source = child.Path.ToString();
        var text = $"{cause.GetType().Name}: {cause.Message} ({directive})";
        context.System.EventStream.Publish(directive == Directive.Resume
            ? new Warning(source, GetType(), text)
            : new Error(cause, source, GetType(), text));
    }
}
