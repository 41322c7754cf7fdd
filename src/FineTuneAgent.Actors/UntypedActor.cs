namespace FineTuneAgent.Actors;

/// <summary>
/// An actor with one method for every message, as Akka's UntypedActor. Call
/// <see cref="ActorBase.Unhandled"/> for a message it does not handle.
/// </summary>
public abstract class UntypedActor : ActorBase
{
    protected abstract void OnReceive(object message);

    protected sealed override bool Receive(object message)
    {
        OnReceive(message);
        return true;
    }

    protected void Become(UntypedReceive receive) => Context.Become(Handle(receive));

    protected void BecomeStacked(UntypedReceive receive) => Context.BecomeStacked(Handle(receive));

    private static Receive Handle(UntypedReceive receive)
    {
        ArgumentNullException.ThrowIfNull(receive);
        return message =>
        {
            receive(message);
            return true;
        };
    }
}
