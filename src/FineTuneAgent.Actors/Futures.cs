namespace FineTuneAgent.Actors;

/// <summary>Ask: request-reply from outside or inside an actor, as Akka's Futures.Ask.</summary>
public static class Futures
{
    public static Task<object> Ask(this ICanTell self, object message, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default) => self.Ask<object>(message, timeout, cancellationToken);

    /// <summary>
    /// Tells <paramref name="message"/> with a temporary sender and returns its first reply.
    /// Fails with <see cref="AskTimeoutException"/> after <paramref name="timeout"/> (no timeout
    /// when null) or at once when the recipient is already dead; with the cause when the reply is
    /// <see cref="Status.Failure"/>; with <see cref="InvalidCastException"/> when the reply is not
    /// a <typeparamref name="T"/>.
    /// </summary>
    public static async Task<T> Ask<T>(this ICanTell self, object message, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(self);
        ArgumentNullException.ThrowIfNull(message);
        var system = (self as LocalActorRef)?.Cell.System ?? ActorCell.Current?.System
            ?? throw new ArgumentException($"Cannot ask {self}: it belongs to no actor system known here.", nameof(self));
        var promise = new PromiseActorRef(system, system.NewTempPath());
        self.Tell(message, promise);
        if (self is IInternalActorRef { IsTerminated: true })
        {
            promise.TryTimeOut(new AskTimeoutException($"Recipient {self} had already been terminated (asked {message.GetType().Name})."));
        }
        object reply;
        try
        {
            reply = timeout is { } limit
                ? await promise.Result.WaitAsync(limit, cancellationToken).ConfigureAwait(false)
                : await promise.Result.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException) when (!promise.Result.IsCompleted)
        {
            var error = new AskTimeoutException($"Ask timed out on {self} after {timeout} (asked {message.GetType().Name}).");
            promise.TryTimeOut(error);
            throw error;
        }
        catch (OperationCanceledException) when (!promise.Result.IsCompleted)
        {
            promise.TryTimeOut(new OperationCanceledException(cancellationToken));
            throw;
        }
        return reply is T typed
            ? typed
            : throw new InvalidCastException($"Ask of {self} expected a {typeof(T).Name} reply, got {reply.GetType().Name}.");
    }
}
