using System.Collections.Concurrent;

namespace FineTuneAgent.Actors.Dispatch;

/// <summary>
/// An actor's two queues (system and user messages) and its place on the dispatcher. At most one
/// thread runs a mailbox at a time, so the actor sees one message at a time. Queues are FIFO, so
/// messages from one sender arrive in the order sent. Once closed (the actor stopped), everything
/// queued and everything posted later goes to dead letters (system messages get their
/// dead-actor answer), so no message is lost without a trace.
/// </summary>
internal sealed class Mailbox(ActorCell cell, Dispatcher dispatcher) : IThreadPoolWorkItem
{
    private readonly ConcurrentQueue<Envelope> _user = new();
    private readonly ConcurrentQueue<SystemMessage> _system = new();
    private int _scheduled;
    private int _closed;

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    public bool HasUserMessages => !_user.IsEmpty;

    public void Post(Envelope envelope)
    {
        _user.Enqueue(envelope);
        if (IsClosed)
        {
            DrainUserMessages();
        }
        else
        {
            Schedule();
        }
    }

    public void PostSystem(SystemMessage message)
    {
        _system.Enqueue(message);
        if (IsClosed)
        {
            DrainSystemMessages();
        }
        else
        {
            Schedule();
        }
    }

    /// <summary>Called by the cell on its own thread once the actor has stopped.</summary>
    public void Close()
    {
        Interlocked.Exchange(ref _closed, 1);
        DrainSystemMessages();
        DrainUserMessages();
    }

    public void Schedule()
    {
        if (Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0)
        {
            dispatcher.Execute(this);
        }
    }

    void IThreadPoolWorkItem.Execute()
    {
        var previous = ActorCell.Current;
        ActorCell.Current = cell;
        try
        {
            ProcessSystemMessages();
            var left = dispatcher.Throughput;
            while (left-- > 0 && !IsClosed && cell.CanProcessUserMessages && _user.TryDequeue(out var envelope))
            {
                cell.Invoke(envelope);
                ProcessSystemMessages();
            }
        }
        finally
        {
            ActorCell.Current = previous;
            Volatile.Write(ref _scheduled, 0);
            if (HasWork())
            {
                Schedule();
            }
        }
    }

    private bool HasWork() =>
        !IsClosed && (!_system.IsEmpty || (!_user.IsEmpty && cell.CanProcessUserMessages));

    private void ProcessSystemMessages()
    {
        while (!IsClosed && _system.TryDequeue(out var message))
        {
            cell.SystemInvoke(message);
        }
    }

    private void DrainUserMessages()
    {
        while (_user.TryDequeue(out var envelope))
        {
            cell.SendToDeadLetters(envelope);
        }
    }

    private void DrainSystemMessages()
    {
        while (_system.TryDequeue(out var message))
        {
            cell.SystemInvokeWhenDead(message);
        }
    }
}
