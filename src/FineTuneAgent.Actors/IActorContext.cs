namespace FineTuneAgent.Actors;

/// <summary>
/// What an actor knows about its own place in the system, as Akka's IActorContext. Only valid on
/// the actor's own thread, while it processes a message or runs a lifecycle hook.
/// </summary>
public interface IActorContext
{
    IActorRef Self { get; }

    /// <summary>The sender of the current message; dead letters when it had none.</summary>
    IActorRef Sender { get; }

    /// <summary>The supervisor. A top-level actor's parent is the user guardian (<c>/user</c>).</summary>
    IActorRef Parent { get; }

    ActorSystem System { get; }

    Props Props { get; }

    /// <summary>Live children (those not yet known to have stopped); same as <see cref="GetChildren"/>.</summary>
    IEnumerable<IActorRef> Children { get; }

    TimeSpan? ReceiveTimeout { get; }

    IEnumerable<IActorRef> GetChildren();

    /// <summary>The child of that name, or <see cref="ActorRefs.Nobody"/>.</summary>
    IActorRef Child(string name);

    /// <summary>Creates a supervised child. A null name is generated (<c>$a</c>, <c>$b</c>, ...).</summary>
    IActorRef ActorOf(Props props, string? name = null);

    /// <summary>Stops a child or Self, asynchronously: after the current message.</summary>
    void Stop(IActorRef actor);

    /// <summary>Receive <see cref="Terminated"/> when <paramref name="subject"/> stops (at once if already dead).</summary>
    IActorRef Watch(IActorRef subject);

    /// <summary>Stop watching; no <see cref="Terminated"/> for it arrives afterwards, even one already queued.</summary>
    IActorRef Unwatch(IActorRef subject);

    /// <summary>Replaces the current behaviour.</summary>
    void Become(Receive receive);

    /// <summary>Pushes a behaviour; <see cref="UnbecomeStacked"/> returns to the one below.</summary>
    void BecomeStacked(Receive receive);

    void UnbecomeStacked();

    /// <summary>
    /// After this long without a message, the actor receives <see cref="Actors.ReceiveTimeout"/>
    /// (repeatedly, until a message arrives or the timeout is cleared with null).
    /// </summary>
    void SetReceiveTimeout(TimeSpan? timeout);
}
