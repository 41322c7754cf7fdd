using FineTuneAgent.Actors.Dispatch;

namespace FineTuneAgent.Actors;

/// <summary>
/// Async handlers with Akka's semantics: while one runs, the actor takes no other user message
/// (its mailbox is suspended); its awaits continue on the actor, one at a time, with the Sender
/// of the message that started it; when it completes the mailbox resumes, and when it throws the
/// actor fails like a synchronous handler.
/// </summary>
internal sealed partial class ActorCell
{
    private bool _awaitingTask;
    private int _incarnation;
    private object? _asyncMessage;
    private IActorRef? _asyncSender;

    internal void RunTask(Func<Task> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (_awaitingTask)
        {
            throw new InvalidOperationException("An actor can run one async handler at a time.");
        }
        var task = RunWithActorContext(action);
        if (task.IsCompleted)
        {
            task.GetAwaiter().GetResult(); // a failure is this message's failure
            return;
        }
        _awaitingTask = true;
        _asyncMessage = _currentMessage;
        _asyncSender = _currentSender;
        var incarnation = _incarnation;
        task.ContinueWith(
            t => SendSystemMessage(new AsyncHandlerCompleted(t, incarnation)),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private Task RunWithActorContext(Func<Task> action)
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(new ActorSynchronizationContext(this, _incarnation));
        try
        {
            return action();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    private void HandleRunContinuation(RunContinuation continuation)
    {
        if (continuation.Incarnation != _incarnation || _terminating)
        {
            return; // the instance that awaited is gone
        }
        _currentMessage = _asyncMessage;
        _currentSender = _asyncSender ?? System.DeadLetters;
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(new ActorSynchronizationContext(this, _incarnation));
        try
        {
            continuation.Callback(continuation.State);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    private void HandleAsyncHandlerCompleted(AsyncHandlerCompleted completed)
    {
        if (completed.Incarnation != _incarnation || !_awaitingTask)
        {
            return;
        }
        _awaitingTask = false;
        _currentMessage = _asyncMessage;
        _currentSender = _asyncSender ?? System.DeadLetters;
        _asyncMessage = null;
        _asyncSender = null;
        try
        {
            if (completed.Task.IsFaulted)
            {
                var exception = completed.Task.Exception!;
                HandleInvokeFailure(exception.InnerExceptions.Count == 1 ? exception.InnerExceptions[0] : exception);
            }
            else if (completed.Task.IsCanceled)
            {
                HandleInvokeFailure(new TaskCanceledException(completed.Task));
            }
            else
            {
                CheckReceiveTimeout(influenced: true);
            }
        }
        finally
        {
            _currentMessage = null;
            _currentSender = System.DeadLetters;
        }
    }
}
