namespace FineTuneAgent.Actors;

/// <summary>
/// Applies the directive to all children: one failure restarts (or stops) every sibling. For
/// children that only work together.
/// </summary>
public sealed class AllForOneStrategy : SupervisorStrategy
{
    public AllForOneStrategy(int? maxNrOfRetries, TimeSpan? withinTimeRange, Func<Exception, Directive> localOnlyDecider,
        bool loggingEnabled = true)
        : base(maxNrOfRetries, withinTimeRange, localOnlyDecider, loggingEnabled)
    {
    }

    public AllForOneStrategy(Func<Exception, Directive> localOnlyDecider)
        : this(null, null, localOnlyDecider)
    {
    }

    public override void ProcessFailure(IActorContext context, bool restart, IActorRef child, Exception cause,
        ChildRestartStats stats, IReadOnlyList<ChildRestartStats> children)
    {
        if (children.Count == 0)
        {
            return;
        }
        if (restart && children.All(c => c.RequestRestartPermission(MaxNrOfRetries, WithinTimeRange)))
        {
            foreach (var sibling in children)
            {
                RestartChild(sibling.Child, cause, suspendFirst: !sibling.Child.Equals(child));
            }
        }
        else
        {
            foreach (var sibling in children)
            {
                context.Stop(sibling.Child);
            }
        }
    }
}
