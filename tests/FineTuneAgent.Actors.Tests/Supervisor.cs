namespace FineTuneAgent.Actors.Tests;

/// <summary>
/// A parent that creates the children it is asked for and replies their references; logs
/// "name PostStop" when given a log.
/// </summary>
internal sealed class Supervisor : ReceiveActor
{
    private readonly EventLog? _log;
    private readonly string _name;

    public Supervisor(EventLog? log, string name)
    {
        _log = log;
        _name = name;
        Receive<StartChild>(s => Sender.Tell(Context.ActorOf(s.Props, s.Name)));
    }

    public static Props Props(SupervisorStrategy strategy, EventLog? log = null, string name = "") =>
        Actors.Props.Create(() => new Supervisor(log, name)).WithSupervisorStrategy(strategy);

    public static async Task<IActorRef> StartChildAsync(IActorRef supervisor, Props props, string name) =>
        await supervisor.Ask<IActorRef>(new StartChild(props, name), TimeSpan.FromSeconds(10));

    protected override void PostStop() => _log?.Add($"{_name} PostStop");

    public sealed record StartChild(Props Props, string Name);
}
