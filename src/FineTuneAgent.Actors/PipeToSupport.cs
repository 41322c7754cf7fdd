namespace FineTuneAgent.Actors;

/// <summary>
/// PipeTo, as Akka's: when a task completes, its result (or <see cref="Status.Failure"/>) is told
/// to an actor. The way for an actor to run heavy work off its mailbox thread and get the outcome
/// back as a message:
/// <code>
/// Task.Factory.StartNew(() =&gt; Train(job), TaskCreationOptions.LongRunning).PipeTo(Self);
/// </code>
/// </summary>
public static class PipeToSupport
{
    /// <summary>
    /// Tells the result (mapped by <paramref name="success"/>) or <see cref="Status.Failure"/>
    /// (mapped by <paramref name="failure"/>) to <paramref name="recipient"/>. A null result is
    /// told as <see cref="Status.Success"/> with a null status.
    /// </summary>
    public static Task PipeTo<T>(this Task<T> taskToPipe, ICanTell recipient, IActorRef? sender = null,
        Func<T, object>? success = null, Func<Exception, object>? failure = null)
    {
        ArgumentNullException.ThrowIfNull(taskToPipe);
        ArgumentNullException.ThrowIfNull(recipient);
        return taskToPipe.ContinueWith(
            t => recipient.Tell(t.IsCompletedSuccessfully
                ? (success is null ? t.Result : success(t.Result)) ?? new Status.Success(null)
                : Failed(t, failure), sender),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Tells <paramref name="success"/>'s message (or <see cref="Status.Success"/>) or <see cref="Status.Failure"/>.</summary>
    public static Task PipeTo(this Task taskToPipe, ICanTell recipient, IActorRef? sender = null,
        Func<object>? success = null, Func<Exception, object>? failure = null)
    {
        ArgumentNullException.ThrowIfNull(taskToPipe);
        ArgumentNullException.ThrowIfNull(recipient);
        return taskToPipe.ContinueWith(
            t => recipient.Tell(t.IsCompletedSuccessfully ? success?.Invoke() ?? new Status.Success(null) : Failed(t, failure), sender),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static object Failed(Task task, Func<Exception, object>? failure)
    {
        Exception cause = task.Exception is { } aggregate
            ? aggregate.InnerExceptions.Count == 1 ? aggregate.InnerExceptions[0] : aggregate
            : new TaskCanceledException(task);
        return failure is null ? new Status.Failure(cause) : failure(cause);
    }
}
