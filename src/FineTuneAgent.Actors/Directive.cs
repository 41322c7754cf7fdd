namespace FineTuneAgent.Actors;

/// <summary>What a supervisor does with a failed child.</summary>
public enum Directive
{
    /// <summary>Keep the instance and its state; process the next message.</summary>
    Resume,

    /// <summary>Replace the instance with a fresh one (PreRestart, constructor, PostRestart).</summary>
    Restart,

    /// <summary>Fail the supervisor itself with the same exception; its own supervisor decides.</summary>
    Escalate,

    /// <summary>Stop the child.</summary>
    Stop,
}
