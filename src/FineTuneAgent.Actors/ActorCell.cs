using FineTuneAgent.Actors.Dispatch;
using FineTuneAgent.Actors.Event;

namespace FineTuneAgent.Actors;

/// <summary>
/// The kernel's record of one actor: its mailbox, the current instance and behaviour stack, its
/// children, watchers and supervision state. Everything but the mailbox queues and the children
/// table is touched only on the actor's own thread (one mailbox run at a time), so it needs no
/// locks. This file holds message dispatch; the partials hold children, fault handling (create,
/// restart, stop), DeathWatch, async handlers and the receive timeout.
/// </summary>
internal sealed partial class ActorCell : IActorContext
{
    [ThreadStatic]
    private static ActorCell? t_current;

    private readonly Mailbox _mailbox;
    private readonly List<Receive> _behaviors = [];
    private ActorBase? _actor;
    private bool _constructing;
    private object? _currentMessage;
    private IActorRef _currentSender;

    public ActorCell(ActorSystem system, Props props, ActorCell? parent, ActorPath path)
    {
        System = system;
        Props = props;
        ParentCell = parent;
        Self = new LocalActorRef(this, path);
        _mailbox = new Mailbox(this, system.Dispatcher);
        _currentSender = system.DeadLetters;
    }

    /// <summary>The cell whose mailbox runs on this thread, if any.</summary>
    internal static ActorCell? Current
    {
        get => t_current;
        set => t_current = value;
    }

    public ActorSystem System { get; }

    public Props Props { get; }

    public LocalActorRef Self { get; }

    IActorRef IActorContext.Self => Self;

    public IActorRef Sender => _currentSender;

    public IActorRef Parent => ParentCell?.Self ?? ActorRefs.Nobody;

    internal ActorCell? ParentCell { get; }

    internal bool IsTerminated => _mailbox.IsClosed;

    /// <summary>Read by the mailbox, on the actor's thread, before each user message.</summary>
    internal bool CanProcessUserMessages =>
        _actor is not null && _suspendCount == 0 && !_awaitingTask && !_terminating && _pendingRecreate is null;

    internal void Start() => _mailbox.PostSystem(new Create());

    internal void Post(object message, IActorRef? sender) =>
        _mailbox.Post(new Envelope(message, sender ?? System.DeadLetters));

    internal void SendSystemMessage(SystemMessage message) => _mailbox.PostSystem(message);

    /// <summary>Called by <see cref="ActorBase"/>'s constructor: binds the instance being created here.</summary>
    internal bool TryBindActor()
    {
        var expected = _constructing;
        _constructing = false;
        return expected;
    }

    internal void Invoke(Envelope envelope)
    {
        _currentMessage = envelope.Message;
        _currentSender = envelope.Sender;
        try
        {
            switch (envelope.Message)
            {
                case PoisonPill:
                    Self.Stop();
                    break;
                case Kill:
                    throw new ActorKilledException("Kill");
                case Terminated terminated:
                    // Delivered only while still watched: Unwatch drops one already queued.
                    if (_terminatedQueued.Remove(terminated.ActorRef))
                    {
                        ReceiveMessage(terminated);
                    }
                    break;
                case Actors.ReceiveTimeout:
                    _receiveTimeoutTask = null;
                    ReceiveMessage(envelope.Message);
                    break;
                default:
                    ReceiveMessage(envelope.Message);
                    break;
            }
            CheckReceiveTimeout(influenced: envelope.Message is not INotInfluenceReceiveTimeout);
        }
        catch (Exception e)
        {
            HandleInvokeFailure(e);
        }
        finally
        {
            if (!_awaitingTask)
            {
                _currentMessage = null;
                _currentSender = System.DeadLetters;
            }
        }
    }

    internal void SystemInvoke(SystemMessage message)
    {
        try
        {
            switch (message)
            {
                case Create:
                    HandleCreate();
                    break;
                case Recreate recreate:
                    FaultRecreate(recreate.Cause);
                    break;
                case Suspend:
                    HandleSuspend();
                    break;
                case Resume resume:
                    HandleResume(resume.CausedByFailure);
                    break;
                case Terminate:
                    HandleTerminate();
                    break;
                case Watch watch:
                    HandleWatch(watch);
                    break;
                case Unwatch unwatch:
                    HandleUnwatch(unwatch);
                    break;
                case DeathWatchNotification notification:
                    HandleDeathWatchNotification(notification);
                    break;
                case Failed failed:
                    HandleFailed(failed);
                    break;
                case RunContinuation continuation:
                    HandleRunContinuation(continuation);
                    break;
                case AsyncHandlerCompleted completed:
                    HandleAsyncHandlerCompleted(completed);
                    break;
                default:
                    throw new InvalidOperationException($"Unknown system message {message}");
            }
        }
        catch (Exception e)
        {
            HandleInvokeFailure(e);
        }
    }

    /// <summary>A user message left in, or told to, a stopped actor.</summary>
    internal void SendToDeadLetters(Envelope envelope)
    {
        // A dead letter that reaches a dead subscriber is dropped, or it would circle forever.
        if (envelope.Message is not DeadLetter)
        {
            System.EventStream.Publish(new DeadLetter(envelope.Message, envelope.Sender, Self));
        }
    }

    public void Become(Receive receive)
    {
        ArgumentNullException.ThrowIfNull(receive);
        if (_behaviors.Count > 0)
        {
            _behaviors.RemoveAt(_behaviors.Count - 1);
        }
        _behaviors.Add(receive);
    }

    public void BecomeStacked(Receive receive)
    {
        ArgumentNullException.ThrowIfNull(receive);
        _behaviors.Add(receive);
    }

    public void UnbecomeStacked()
    {
        if (_behaviors.Count > 1)
        {
            _behaviors.RemoveAt(_behaviors.Count - 1);
        }
    }

    private void ReceiveMessage(object message) => _actor!.AroundReceive(_behaviors[^1], message);

    private void PublishError(Exception? cause, string message) =>
        System.EventStream.Publish(new Error(cause, Self.Path.ToString(), _actor?.GetType() ?? Props.Type, message));
}
