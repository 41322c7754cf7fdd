namespace FineTuneAgent.Actors.Dispatch;

/// <summary>
/// The kernel's own messages (Akka's system messages). They travel in a mailbox queue of their
/// own, are processed before any user message, and are processed even while the actor is
/// suspended (failed, awaiting an async handler, or stopping).
/// </summary>
internal abstract record SystemMessage;

/// <summary>Construct the actor and call PreStart; the first message of every cell.</summary>
internal sealed record Create : SystemMessage;

/// <summary>The supervisor's Restart directive.</summary>
internal sealed record Recreate(Exception Cause) : SystemMessage;

/// <summary>Stop processing user messages (a sibling restart under AllForOne, a failing parent).</summary>
internal sealed record Suspend : SystemMessage;

/// <summary>The supervisor's Resume directive, or the end of a parent's suspension.</summary>
internal sealed record Resume(bool CausedByFailure) : SystemMessage;

/// <summary>Stop: children first, then PostStop, then watchers are told.</summary>
internal sealed record Terminate : SystemMessage;

/// <summary>Sent to <see cref="Watchee"/>: tell <see cref="Watcher"/> when you stop.</summary>
internal sealed record Watch(IInternalActorRef Watchee, IInternalActorRef Watcher) : SystemMessage;

/// <summary>Sent to <see cref="Watchee"/>: forget <see cref="Watcher"/>.</summary>
internal sealed record Unwatch(IInternalActorRef Watchee, IInternalActorRef Watcher) : SystemMessage;

/// <summary>Sent by a stopped actor to its parent and its watchers.</summary>
internal sealed record DeathWatchNotification(IActorRef Actor, bool ExistenceConfirmed) : SystemMessage;

/// <summary>Sent by a failed child to its parent, which applies its supervisor strategy.</summary>
internal sealed record Failed(IActorRef Child, Exception Cause) : SystemMessage;

/// <summary>A continuation of an async handler, run on the actor like a message.</summary>
internal sealed record RunContinuation(SendOrPostCallback Callback, object? State, int Incarnation) : SystemMessage;

/// <summary>An async handler finished: the mailbox resumes, or the actor fails with its exception.</summary>
internal sealed record AsyncHandlerCompleted(Task Task, int Incarnation) : SystemMessage;
