namespace FineTuneAgent.Actors.Dispatch;

/// <summary>
/// Installed while an async handler runs, so every <c>await</c> in it continues on the actor, one
/// continuation at a time, with Self and Sender as when the handler started (Akka's
/// ActorTaskScheduler). Continuations of an earlier incarnation (before a restart) are dropped.
/// </summary>
internal sealed class ActorSynchronizationContext(ActorCell cell, int incarnation) : SynchronizationContext
{
    public override void Post(SendOrPostCallback d, object? state) =>
        cell.SendSystemMessage(new RunContinuation(d, state, incarnation));

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("An actor cannot block waiting for its own mailbox.");

    public override SynchronizationContext CreateCopy() => this;
}
