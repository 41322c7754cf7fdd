namespace FineTuneAgent.Actors;

/// <summary>
/// The user guardian, <c>/user</c>: parent of every actor created with
/// <see cref="ActorSystem.ActorOf"/>, supervising them with
/// <see cref="ActorSystemSettings.GuardianSupervisorStrategy"/>. When it stops, the system has
/// terminated.
/// </summary>
internal sealed class GuardianActor : ActorBase
{
    protected override bool Receive(object message) => false;
}
