using FineTuneAgent.Actors.Event;

namespace FineTuneAgent.Actors;

/// <summary>
/// The base of every actor, as Akka's ActorBase. An instance is created only by the kernel (from
/// <see cref="Props"/>, via ActorOf), on the actor's own thread; it then sees one message at a
/// time. Override the lifecycle hooks to take part in start, restart and stop.
/// </summary>
/// <remarks>
/// A handler must not block: long or blocking work (a training step, file I/O, a native call)
/// runs on its own task, <c>Task.Factory.StartNew(work, TaskCreationOptions.LongRunning)</c>,
/// and reports back as messages, typically with <see cref="PipeToSupport.PipeTo{T}"/>. The
/// actor stays responsive (it can be asked for status, cancelled, stopped) while the work runs.
/// </remarks>
public abstract class ActorBase
{
    private readonly ActorCell _cell;

    protected ActorBase()
    {
        var cell = ActorCell.Current;
        if (cell is null || !cell.TryBindActor())
        {
            throw new ActorInitializationException(null,
                $"{GetType().Name} was created with 'new'; create actors with ActorOf(Props.Create(...)).", null);
        }
        _cell = cell;
    }

    /// <summary>This actor's context; valid on the actor's thread only.</summary>
    protected IActorContext Context => _cell;

    protected IActorRef Self => _cell.Self;

    /// <summary>The sender of the current message (dead letters when none).</summary>
    protected IActorRef Sender => _cell.Sender;

    /// <summary>The initial behaviour; true when the message was handled.</summary>
    protected abstract bool Receive(object message);

    /// <summary>Called once the instance is constructed, before its first message.</summary>
    protected virtual void PreStart()
    {
    }

    /// <summary>Called after the children have stopped, before watchers are told.</summary>
    protected virtual void PostStop()
    {
    }

    /// <summary>
    /// Called on the failed instance before it is replaced. By default stops all children and
    /// calls <see cref="PostStop"/>. <paramref name="message"/> is the one being processed when
    /// the failure happened, if any.
    /// </summary>
    protected virtual void PreRestart(Exception reason, object? message)
    {
        foreach (var child in Context.GetChildren())
        {
            Context.Unwatch(child);
            Context.Stop(child);
        }
        PostStop();
    }

    /// <summary>Called on the new instance after a restart. By default calls <see cref="PreStart"/>.</summary>
    protected virtual void PostRestart(Exception reason) => PreStart();

    /// <summary>
    /// A message no behaviour handled: an unhandled <see cref="Terminated"/> fails the actor with
    /// <see cref="DeathPactException"/>; anything else is published as
    /// <see cref="UnhandledMessage"/>.
    /// </summary>
    protected virtual void Unhandled(object message)
    {
        if (message is Terminated terminated)
        {
            throw new DeathPactException(terminated.ActorRef);
        }
        _cell.System.EventStream.Publish(new UnhandledMessage(message, Sender, Self));
    }

    /// <summary>How this actor supervises its children; <see cref="Props.WithSupervisorStrategy"/> overrides it.</summary>
    protected virtual SupervisorStrategy SupervisorStrategy() => global::FineTuneAgent.Actors.SupervisorStrategy.DefaultStrategy;

    protected void Become(Receive receive) => Context.Become(receive);

    protected void BecomeStacked(Receive receive) => Context.BecomeStacked(receive);

    protected void UnbecomeStacked() => Context.UnbecomeStacked();

    protected void SetReceiveTimeout(TimeSpan? timeout) => Context.SetReceiveTimeout(timeout);

    /// <summary>
    /// Runs an async handler with Akka's semantics: no other message is processed until the task
    /// completes; awaits continue on the actor; an exception fails the actor.
    /// </summary>
    protected void RunTask(Func<Task> action) => _cell.RunTask(action);

    internal SupervisorStrategy SupervisorStrategyInternal => _cell.Props.SupervisorStrategy ?? SupervisorStrategy();

    internal virtual void AfterConstruction()
    {
    }

    internal bool ReceiveEntry(object message) => Receive(message);

    internal void AroundReceive(Receive receive, object message)
    {
        if (!receive(message))
        {
            Unhandled(message);
        }
    }

    internal void AroundPreStart() => PreStart();

    internal void AroundPostStop() => PostStop();

    internal void AroundPreRestart(Exception reason, object? message) => PreRestart(reason, message);

    internal void AroundPostRestart(Exception reason) => PostRestart(reason);
}
