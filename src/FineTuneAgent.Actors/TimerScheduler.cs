using System.Collections.Concurrent;

namespace FineTuneAgent.Actors;

/// <summary>The scheduler over <see cref="Timer"/>: one timer per schedule, kept until it fires (once) or is cancelled.</summary>
internal sealed class TimerScheduler : IScheduler, IDisposable
{
    private readonly ConcurrentDictionary<Cancelable, Timer> _timers = new();
    private volatile bool _disposed;

    public ICancelable ScheduleTellOnce(TimeSpan delay, ICanTell receiver, object message, IActorRef? sender) =>
        Schedule(delay, Timeout.InfiniteTimeSpan, receiver, message, sender);

    public ICancelable ScheduleTellRepeatedly(TimeSpan initialDelay, TimeSpan interval, ICanTell receiver, object message,
        IActorRef? sender)
    {
        if (interval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "must be positive");
        }
        return Schedule(initialDelay, interval, receiver, message, sender);
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var cancelable in _timers.Keys)
        {
            cancelable.Cancel();
        }
    }

    private Cancelable Schedule(TimeSpan delay, TimeSpan interval, ICanTell receiver, object message, IActorRef? sender)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        ArgumentNullException.ThrowIfNull(message);
        var cancelable = new Cancelable();
        if (_disposed)
        {
            cancelable.Cancel();
            return cancelable;
        }
        var once = interval == Timeout.InfiniteTimeSpan;
        var timer = new Timer(_ =>
        {
            if (cancelable.IsCancellationRequested)
            {
                return;
            }
            receiver.Tell(message, sender);
            if (once)
            {
                Remove(cancelable);
            }
        });
        _timers[cancelable] = timer;
        cancelable.Token.Register(() => Remove(cancelable));
        timer.Change(delay < TimeSpan.Zero ? TimeSpan.Zero : delay, interval);
        return cancelable;
    }

    private void Remove(Cancelable cancelable)
    {
        if (_timers.TryRemove(cancelable, out var timer))
        {
            timer.Dispose();
        }
    }
}
