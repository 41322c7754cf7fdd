using System.Net.Http.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Actors;
using FineTuneAgent.Agent.Jobs;
using FineTuneAgent.Core.Config;

namespace FineTuneAgent.Agent.Cluster;

/// <summary>
/// This agent's place in the pool. Every heartbeat interval it posts a heartbeat to each member it knows (and a join
/// to each seed it has not reached yet), carrying itself (hardware, load) and its view of the members; each answer,
/// and each heartbeat received, is an arrival for that member's φ accrual failure detector and merges the sender's
/// view (new members join as <see cref="MemberState.Joining"/> until heard from directly). A member whose φ exceeds
/// the threshold is unreachable; unreachable for down-after, down; down for down-after again, removed. A member that
/// says it leaves is removed at once. All agent-to-agent calls carry the cluster token (header
/// <see cref="TokenHeader"/>); calls without it are refused by the API. HTTP calls run on tasks and come back as
/// messages, so the mailbox never waits on the network.
/// </summary>
public sealed class ClusterNode : ReceiveActor
{
    public const string TokenHeader = "X-Fta-Cluster-Token";

    private readonly ClusterSettings _settings;
    private readonly IActorRef _root;
    private readonly HttpClient _http;
    private readonly Dictionary<string, ClusterMember> _members = new();
    private readonly Dictionary<string, PhiAccrualFailureDetector> _detectors = new();
    private readonly Dictionary<string, DateTimeOffset> _firstKnown = new();
    private readonly HashSet<string> _inFlight = new();
    private ClusterMember _self;
    private ICancelable? _ticks;

    public ClusterNode(ClusterSettings settings, ClusterMember self, IActorRef root)
    {
        _settings = settings;
        _self = self with { State = MemberState.Up };
        _root = root;
        _http = PeerHttp.Create(settings.ClusterToken, TimeSpan.FromMilliseconds(Math.Max(1000, 2 * settings.HeartbeatInterval.TotalMilliseconds)));

        Receive<Tick>(_ => OnTick());
        Receive<QueueState>(q => _self = _self with { Running = q.Running.Count, Queued = q.Waiting.Count });
        Receive<PeerAnswered>(OnAnswered);
        Receive<PeerFailed>(f => _inFlight.Remove(f.Url));
        Receive<HeartbeatReceived>(h =>
        {
            Heard(h.From, DateTimeOffset.UtcNow);
            Merge(h.Members);
            Sender.Tell(View());
        });
        Receive<MemberLeft>(left =>
        {
            if (_members.TryGetValue(left.Id, out var m))
                _members[left.Id] = m with { State = MemberState.Removed };
            Sender.Tell(View());
        });
        Receive<GetMembers>(_ => Sender.Tell(Members()));
        Receive<LeaveCluster>(_ => Leave());
    }

    public static Props Props(ClusterSettings settings, ClusterMember self, IActorRef root) =>
        Actors.Props.Create(() => new ClusterNode(settings, self, root));

    protected override void PreStart() =>
        _ticks = Context.System.Scheduler.ScheduleTellRepeatedly(TimeSpan.Zero, _settings.HeartbeatInterval, Self, Tick.Instance, Self);

    protected override void PostStop()
    {
        _ticks?.Cancel();
        _http.Dispose();
    }

    /// <summary>Every member this node knows, itself first, with φ now.</summary>
    private MembersView Members()
    {
        var now = DateTimeOffset.UtcNow;
        var others = _members.Values.Select(m => m with { Phi = _detectors.TryGetValue(m.Id, out var d) ? d.Phi(now) : 0 }).OrderBy(m => m.Name, StringComparer.Ordinal);
        return new MembersView([_self with { LastHeartbeat = now }, .. others]);
    }

    private JsonObject View() => new()
    {
        ["member"] = _self.ToJson(),
        ["members"] = new JsonArray(_members.Values.Select(m => (JsonNode)m.ToJson(withHardware: false)).ToArray()),
    };

    private void OnTick()
    {
        _root.Ask<QueueState>(GetQueue.Instance, TimeSpan.FromSeconds(5)).PipeTo(Self, failure: _ => new PeerFailed(""));
        var now = DateTimeOffset.UtcNow;
        foreach (var m in _members.Values.ToList())
            _members[m.Id] = Judge(m, now);
        // Heartbeats to every member still in play; joins to seeds no live member answers for yet.
        var targets = _members.Values.Where(m => m.State is MemberState.Joining or MemberState.Up or MemberState.Unreachable).Select(m => m.Url).ToHashSet();
        foreach (var seed in _settings.Seeds)
        {
            var url = SeedUrl(seed);
            if (url != _self.Url && !_members.Values.Any(m => m.Url == url && m.State == MemberState.Up))
                targets.Add(url);
        }
        foreach (var url in targets.Where(u => u != _self.Url && _inFlight.Add(u)))
            Send(url);
    }

    /// <summary>The state a member moves to as time passes without news: up → unreachable → down → removed.</summary>
    private ClusterMember Judge(ClusterMember m, DateTimeOffset now)
    {
        var downAfter = _settings.DownAfter;
        switch (m.State)
        {
            case MemberState.Up when _detectors.TryGetValue(m.Id, out var d) && !d.IsAvailable(now, _settings.FailureDetectorThreshold):
                return m with { State = MemberState.Unreachable, UnreachableSince = now };
            case MemberState.Joining when _firstKnown.TryGetValue(m.Id, out var since) && now - since > downAfter + _settings.AcceptableHeartbeatPause:
                return m with { State = MemberState.Unreachable, UnreachableSince = now }; // known by hearsay, never heard from
            case MemberState.Unreachable when m.UnreachableSince is { } u && now - u > downAfter:
                return m with { State = MemberState.Down };
            case MemberState.Down when m.UnreachableSince is { } u && now - u > 2 * downAfter:
                return m with { State = MemberState.Removed };
            default:
                return m;
        }
    }

    private static string SeedUrl(string seed) => seed.StartsWith("http", StringComparison.Ordinal) ? seed.TrimEnd('/') + "/" : $"http://{seed}/";

    private void Send(string url)
    {
        var body = View();
        var http = _http;
        var self = Self;
        Task.Run(async () =>
        {
            using var response = await http.PostAsJsonAsync(new Uri(new Uri(url), "api/v1/cluster/heartbeat"), body).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            var json = await response.Content.ReadFromJsonAsync<JsonObject>().ConfigureAwait(false) ?? throw new InvalidDataException("empty heartbeat answer");
            return (object)new PeerAnswered(url, json);
        }).PipeTo(self, failure: _ => new PeerFailed(url));
    }

    private void OnAnswered(PeerAnswered answered)
    {
        _inFlight.Remove(answered.Url);
        try
        {
            var member = ClusterMember.FromJson(answered.Json["member"]!.AsObject());
            Heard(member, DateTimeOffset.UtcNow);
            Merge(answered.Json["members"] as JsonArray ?? []);
        }
        catch (Exception e) when (e is InvalidDataException or InvalidOperationException or NullReferenceException)
        {
            // A malformed answer is no heartbeat; the failure detector decides.
        }
    }

    /// <summary>A heartbeat straight from the member: an arrival for its detector, its own facts, and up unless it was given up on.</summary>
    private void Heard(ClusterMember peer, DateTimeOffset now)
    {
        if (peer.Id == _self.Id)
            return;
        // A restarted agent (same URL, new id) replaces its old self.
        foreach (var stale in _members.Values.Where(m => m.Url == peer.Url && m.Id != peer.Id && m.State is not MemberState.Removed).ToList())
            _members[stale.Id] = stale with { State = MemberState.Removed };
        if (!_detectors.TryGetValue(peer.Id, out var detector))
            _detectors[peer.Id] = detector = new PhiAccrualFailureDetector(_settings.AcceptableHeartbeatPause, TimeSpan.FromMilliseconds(100), _settings.HeartbeatInterval);
        detector.Heartbeat(now);
        _members.TryGetValue(peer.Id, out var known);
        var state = known?.State is MemberState.Down or MemberState.Removed ? known.State
            : peer.State == MemberState.Leaving ? MemberState.Leaving
            : MemberState.Up;
        _members[peer.Id] = peer with { State = state, LastHeartbeat = now, UnreachableSince = null };
        _firstKnown.TryAdd(peer.Id, now);
    }

    /// <summary>Members another node knows: unknown ones join (to be heard from directly); a leave it saw is taken over.</summary>
    private void Merge(JsonArray members)
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var json in members.OfType<JsonObject>())
        {
            ClusterMember m;
            try
            {
                m = ClusterMember.FromJson(json);
            }
            catch (InvalidDataException)
            {
                continue;
            }
            if (m.Id == _self.Id)
                continue;
            if (!_members.TryGetValue(m.Id, out var known))
            {
                if (m.State is MemberState.Joining or MemberState.Up && !_members.Values.Any(x => x.Url == m.Url && x.State is MemberState.Up))
                {
                    _members[m.Id] = m with { State = MemberState.Joining, Hardware = null };
                    _firstKnown[m.Id] = now;
                }
            }
            else if (m.State == MemberState.Removed && known.State != MemberState.Removed)
                _members[m.Id] = known with { State = MemberState.Removed };
        }
    }

    /// <summary>Tells every member this agent is leaving (best effort, bounded by the HTTP timeout), then stops heartbeats.</summary>
    private void Leave()
    {
        _ticks?.Cancel();
        var body = new JsonObject { ["id"] = _self.Id };
        var calls = _members.Values.Where(m => m.State is MemberState.Up or MemberState.Joining)
            .Select(m => _http.PostAsJsonAsync(new Uri(new Uri(m.Url), "api/v1/cluster/leave"), body)).ToArray();
        var replyTo = Sender;
        Task.WhenAll(calls).ContinueWith(_ => replyTo.Tell(new LeftCluster(calls.Length)), TaskScheduler.Default);
    }

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record PeerAnswered(string Url, JsonObject Json);

    private sealed record PeerFailed(string Url);
}

/// <summary>The API got a heartbeat (or a join) from <see cref="From"/> with its view; answered with this node's view (JSON).</summary>
public sealed record HeartbeatReceived(ClusterMember From, JsonArray Members);

/// <summary>The API got a leave from member <see cref="Id"/>; answered with this node's view.</summary>
public sealed record MemberLeft(string Id);

/// <summary>Asks for the members; answered <see cref="MembersView"/>.</summary>
public sealed record GetMembers
{
    public static GetMembers Instance { get; } = new();
}

/// <summary>This node first, then every member it knows, with its state and φ.</summary>
public sealed record MembersView(IReadOnlyList<ClusterMember> Members);

/// <summary>Tell the members this agent leaves; answered <see cref="LeftCluster"/>.</summary>
public sealed record LeaveCluster
{
    public static LeaveCluster Instance { get; } = new();
}

public sealed record LeftCluster(int Told);
