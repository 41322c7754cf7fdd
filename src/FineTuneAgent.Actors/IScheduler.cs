namespace FineTuneAgent.Actors;

/// <summary>
/// Tells messages later, as Akka's scheduler (<c>Context.System.Scheduler</c>). Each method
/// returns a handle whose <see cref="ICancelable.Cancel"/> stops deliveries not yet made. Timing
/// is best effort (timer resolution); all schedules are cancelled when the system terminates.
/// </summary>
public interface IScheduler
{
    ICancelable ScheduleTellOnce(TimeSpan delay, ICanTell receiver, object message, IActorRef? sender);

    ICancelable ScheduleTellRepeatedly(TimeSpan initialDelay, TimeSpan interval, ICanTell receiver, object message, IActorRef? sender);

    /// <summary>Akka.NET's name for <see cref="ScheduleTellOnce"/>, which returns the handle here too.</summary>
    ICancelable ScheduleTellOnceCancelable(TimeSpan delay, ICanTell receiver, object message, IActorRef? sender) =>
        ScheduleTellOnce(delay, receiver, message, sender);

    /// <summary>Akka.NET's name for <see cref="ScheduleTellRepeatedly"/>, which returns the handle here too.</summary>
    ICancelable ScheduleTellRepeatedlyCancelable(TimeSpan initialDelay, TimeSpan interval, ICanTell receiver, object message,
        IActorRef? sender) => ScheduleTellRepeatedly(initialDelay, interval, receiver, message, sender);
}
