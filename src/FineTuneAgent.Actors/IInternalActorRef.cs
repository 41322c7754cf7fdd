using FineTuneAgent.Actors.Dispatch;

namespace FineTuneAgent.Actors;

/// <summary>The kernel's side of a reference: system messages, stop, and liveness.</summary>
internal interface IInternalActorRef : IActorRef
{
    bool IsTerminated { get; }

    void SendSystemMessage(SystemMessage message);

    void Stop();
}
