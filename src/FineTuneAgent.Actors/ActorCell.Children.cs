namespace FineTuneAgent.Actors;

/// <summary>Children: creation with unique names, lookup, stopping, and removal once stopped.</summary>
internal sealed partial class ActorCell
{
    private readonly Lock _childrenLock = new();
    private readonly Dictionary<string, ChildRestartStats> _children = new(StringComparer.Ordinal);
    // Children this actor asked to stop; a pending restart waits until all of them have stopped.
    private readonly HashSet<IActorRef> _stoppingChildren = [];
    private long _lastGeneratedName;

    public IEnumerable<IActorRef> Children => GetChildren();

    public IEnumerable<IActorRef> GetChildren()
    {
        lock (_childrenLock)
        {
            return _children.Values.Select(s => s.Child).ToList();
        }
    }

    public IActorRef Child(string name)
    {
        lock (_childrenLock)
        {
            return _children.TryGetValue(name, out var stats) ? stats.Child : ActorRefs.Nobody;
        }
    }

    /// <summary>May be called from any thread for the user guardian (<see cref="ActorSystem.ActorOf"/>).</summary>
    public IActorRef ActorOf(Props props, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(props);
        if (name is null)
        {
            name = "$" + GeneratedName(Interlocked.Increment(ref _lastGeneratedName));
        }
        else if (name.Length == 0 || name[0] == '$' || name.Contains('/') || name.Contains('#') || name.Any(char.IsWhiteSpace))
        {
            throw new InvalidActorNameException(
                $"Invalid actor name [{name}]: it must be non-empty, not start with '$', and hold no '/', '#' or spaces.");
        }
        ActorCell child;
        lock (_childrenLock)
        {
            if (_terminating)
            {
                throw new InvalidOperationException($"Cannot create children of {Self.Path} while it is stopping or stopped.");
            }
            if (_children.ContainsKey(name))
            {
                throw new InvalidActorNameException($"Actor name [{name}] is not unique under {Self.Path}.");
            }
            child = new ActorCell(System, props, this, (Self.Path / name).WithUid(ActorSystem.NewUid()));
            _children.Add(name, new ChildRestartStats(child.Self));
        }
        child.Start();
        return child.Self;
    }

    public void Stop(IActorRef actor)
    {
        if (actor is not IInternalActorRef target)
        {
            return;
        }
        if (IsChild(actor))
        {
            _stoppingChildren.Add(actor);
        }
        target.Stop();
    }

    private bool IsChild(IActorRef actor) => ChildStats(actor) is not null;

    private ChildRestartStats? ChildStats(IActorRef actor)
    {
        lock (_childrenLock)
        {
            return _children.TryGetValue(actor.Path.Name, out var stats) && stats.Child.Equals(actor) ? stats : null;
        }
    }

    private List<ChildRestartStats> ChildrenStats()
    {
        lock (_childrenLock)
        {
            return [.. _children.Values];
        }
    }

    private int ChildrenCount
    {
        get
        {
            lock (_childrenLock)
            {
                return _children.Count;
            }
        }
    }

    private void HandleChildTerminated(IActorRef child)
    {
        lock (_childrenLock)
        {
            _children.Remove(child.Path.Name);
        }
        _stoppingChildren.Remove(child);
        if (_terminating)
        {
            if (ChildrenCount == 0)
            {
                FinishTerminate();
            }
        }
        else if (_pendingRecreate is { } cause && _stoppingChildren.Count == 0)
        {
            FinishRecreate(cause);
        }
    }

    /// <summary>Akka's generated names: base-64 digits of a counter, least significant first.</summary>
    private static string GeneratedName(long n)
    {
        const string digits = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+~";
        var text = new System.Text.StringBuilder();
        do
        {
            text.Append(digits[(int)(n & 63)]);
            n >>= 6;
        }
        while (n != 0);
        return text.ToString();
    }
}
