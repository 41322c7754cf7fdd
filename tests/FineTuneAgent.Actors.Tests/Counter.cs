namespace FineTuneAgent.Actors.Tests;

/// <summary>
/// A test actor with state (a count) that logs its constructor and every lifecycle hook as
/// "name event instance", so tests can see which instance did what, in which order.
/// </summary>
internal sealed class Counter : ReceiveActor
{
    private readonly EventLog _log;
    private readonly string _name;
    private readonly int _instance;
    private int _count;

    public Counter(EventLog log, string name)
    {
        _log = log;
        _name = name;
        _instance = log.Snapshot().Count(e => e.StartsWith($"{name} ctor ", StringComparison.Ordinal)) + 1;
        log.Add($"{name} ctor {_instance}");
        Receive<string>(s => s == "inc", _ => _count++);
        Receive<string>(s => s == "get", _ => Sender.Tell(_count));
        Receive<Fail>(f => throw f.Exception);
    }

    public static Props Props(EventLog log, string name) => Actors.Props.Create(() => new Counter(log, name));

    protected override void PreStart() => _log.Add($"{_name} PreStart {_instance}");

    protected override void PostStop() => _log.Add($"{_name} PostStop {_instance}");

    protected override void PreRestart(Exception reason, object? message)
    {
        _log.Add($"{_name} PreRestart {_instance} {reason.Message} {message?.GetType().Name}");
        base.PreRestart(reason, message);
    }

    protected override void PostRestart(Exception reason)
    {
        _log.Add($"{_name} PostRestart {_instance} {reason.Message}");
        base.PostRestart(reason);
    }
}

/// <summary>Makes a <see cref="Counter"/> throw <see cref="Exception"/>.</summary>
internal sealed record Fail(Exception Exception);
