namespace FineTuneAgent.Actors;

/// <summary>Applies the directive to the failed child only.</summary>
public sealed class OneForOneStrategy : SupervisorStrategy
{
    public OneForOneStrategy(int? maxNrOfRetries, TimeSpan? withinTimeRange, Func<Exception, Directive> localOnlyDecider,
        bool loggingEnabled = true)
        : base(maxNrOfRetries, withinTimeRange, localOnlyDecider, loggingEnabled)
    {
    }

    public OneForOneStrategy(Func<Exception, Directive> localOnlyDecider)
        : this(null, null, localOnlyDecider)
    {
    }

    public override void ProcessFailure(IActorContext context, bool restart, IActorRef child, Exception cause,
        ChildRestartStats stats, IReadOnlyList<ChildRestartStats> children)
    {
        if (restart && stats.RequestRestartPermission(MaxNrOfRetries, WithinTimeRange))
        {
            RestartChild(child, cause, suspendFirst: false);
        }
        else
        {
            context.Stop(child);
        }
    }
}
