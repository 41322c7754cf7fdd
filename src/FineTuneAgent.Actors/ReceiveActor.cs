namespace FineTuneAgent.Actors;

/// <summary>
/// An actor whose behaviour is a list of typed handlers, declared in its constructor (or in a
/// <see cref="Become(Action)"/> block), as Akka's ReceiveActor. The first handler whose type and
/// predicate match a message takes it; a message none takes is unhandled.
/// </summary>
public abstract class ReceiveActor : ActorBase
{
    private List<Func<object, bool>>? _configuring = [];
    private Receive? _initial;

    protected sealed override bool Receive(object message) => _initial!(message);

    protected void Receive<T>(Action<T> handler, Predicate<T>? shouldHandle = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Add(message =>
        {
            if (message is T typed && (shouldHandle is null || shouldHandle(typed)))
            {
                handler(typed);
                return true;
            }
            return false;
        });
    }

    protected void Receive<T>(Predicate<T> shouldHandle, Action<T> handler) => Receive(handler, shouldHandle);

    /// <summary>
    /// An async handler: no other message is processed until the returned task completes (the
    /// mailbox is suspended); awaits continue on the actor; an exception fails the actor.
    /// </summary>
    protected void ReceiveAsync<T>(Func<T, Task> handler, Predicate<T>? shouldHandle = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Add(message =>
        {
            if (message is T typed && (shouldHandle is null || shouldHandle(typed)))
            {
                RunTask(() => handler(typed));
                return true;
            }
            return false;
        });
    }

    protected void ReceiveAny(Action<object> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Add(message =>
        {
            handler(message);
            return true;
        });
    }

    protected void ReceiveAnyAsync(Func<object, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Add(message =>
        {
            RunTask(() => handler(message));
            return true;
        });
    }

    /// <summary>Replaces the behaviour with the handlers that <paramref name="configure"/> declares.</summary>
    protected void Become(Action configure) => Become(Configure(configure));

    /// <summary>Pushes the handlers that <paramref name="configure"/> declares; UnbecomeStacked pops them.</summary>
    protected void BecomeStacked(Action configure) => BecomeStacked(Configure(configure));

    internal override void AfterConstruction()
    {
        _initial = Build(_configuring!);
        _configuring = null;
    }

    private void Add(Func<object, bool> handler)
    {
        if (_configuring is null)
        {
            throw new InvalidOperationException(
                "Receive handlers can be declared only in the constructor or in a Become(() => ...) block.");
        }
        _configuring.Add(handler);
    }

    private Receive Configure(Action configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var outer = _configuring;
        _configuring = [];
        try
        {
            configure();
            return Build(_configuring);
        }
        finally
        {
            _configuring = outer;
        }
    }

    private static Receive Build(List<Func<object, bool>> handlers)
    {
        var table = handlers.ToArray();
        return message =>
        {
            foreach (var handler in table)
            {
                if (handler(message))
                {
                    return true;
                }
            }
            return false;
        };
    }
}
