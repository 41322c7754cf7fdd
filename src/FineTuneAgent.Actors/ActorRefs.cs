namespace FineTuneAgent.Actors;

/// <summary>The two special references, as Akka's ActorRefs.</summary>
public static class ActorRefs
{
    /// <summary>
    /// "No sender": null, as in Akka. A receiver that replies to it reaches the system's dead
    /// letters.
    /// </summary>
    public static readonly IActorRef? NoSender;

    /// <summary>A reference to no actor; what <c>Context.Child(name)</c> returns for an unknown name.</summary>
    public static readonly IActorRef Nobody = new NobodyActorRef();
}
