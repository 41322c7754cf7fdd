using FineTuneAgent.Actors.Dispatch;

namespace FineTuneAgent.Actors;

/// <summary>The reference to an actor of this process: telling it enqueues in its mailbox.</summary>
internal sealed class LocalActorRef(ActorCell cell, ActorPath path) : ActorRefBase
{
    internal ActorCell Cell { get; } = cell;

    public override ActorPath Path { get; } = path;

    public override bool IsTerminated => Cell.IsTerminated;

    public override void Tell(object message, IActorRef? sender)
    {
        ArgumentNullException.ThrowIfNull(message);
        Cell.Post(message, sender);
    }

    public override void SendSystemMessage(SystemMessage message) => Cell.SendSystemMessage(message);

    public override void Stop() => Cell.SendSystemMessage(new Terminate());
}
