namespace FineTuneAgent.Actors;

/// <summary>The receive timeout: re-armed by every message that influences it.</summary>
internal sealed partial class ActorCell
{
    private TimeSpan? _receiveTimeout;
    private ICancelable? _receiveTimeoutTask;

    public TimeSpan? ReceiveTimeout => _receiveTimeout;

    public void SetReceiveTimeout(TimeSpan? timeout)
    {
        _receiveTimeout = timeout > TimeSpan.Zero ? timeout : null;
        CheckReceiveTimeout(influenced: true);
    }

    private void CheckReceiveTimeout(bool influenced)
    {
        if (_receiveTimeout is not { } timeout || _terminating)
        {
            CancelReceiveTimeout();
            return;
        }
        if (influenced || _receiveTimeoutTask is null)
        {
            _receiveTimeoutTask?.Cancel();
            _receiveTimeoutTask = System.Scheduler.ScheduleTellOnce(timeout, Self, Actors.ReceiveTimeout.Instance, ActorRefs.NoSender);
        }
    }

    private void CancelReceiveTimeout()
    {
        _receiveTimeoutTask?.Cancel();
        _receiveTimeoutTask = null;
    }
}
