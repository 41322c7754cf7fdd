using System.Text.Json.Nodes;

namespace FineTuneAgent.Agent.Cluster;

/// <summary>
/// A member's life, as every node sees it: joining (known through another member, not heard from directly yet), up
/// (heartbeats arrive), unreachable (φ above the threshold), down (unreachable longer than down-after: given up on, its
/// runs no longer counted), removed (it left, or was down for long enough to forget), leaving (it said it is stopping).
/// </summary>
public enum MemberState
{
    Joining,
    Up,
    Unreachable,
    Down,
    Leaving,
    Removed,
}

/// <summary>
/// One agent of the pool. <see cref="Id"/> names one run of one agent (name, URL and start time): an agent that
/// restarts is a new member, so a downed one comes back by joining again, never by resurrecting its old self.
/// </summary>
public sealed record ClusterMember(string Id, string Name, string Url)
{
    public MemberState State { get; init; } = MemberState.Joining;

    /// <summary>Its hardware as its probe reported it (`fta hw --json`'s object).</summary>
    public JsonObject? Hardware { get; init; }

    /// <summary>Its runs: running and queued counts.</summary>
    public int Running { get; init; }

    public int Queued { get; init; }

    public string? Version { get; init; }

    public DateTimeOffset? LastHeartbeat { get; init; }

    public DateTimeOffset? UnreachableSince { get; init; }

    public double Phi { get; init; }

    public JsonObject ToJson(bool withHardware = true) => new()
    {
        ["id"] = Id,
        ["name"] = Name,
        ["url"] = Url,
        ["state"] = State.ToString().ToLowerInvariant(),
        ["version"] = Version,
        ["running"] = Running,
        ["queued"] = Queued,
        ["phi"] = double.IsFinite(Phi) ? Math.Round(Phi, 2) : null,
        ["last_heartbeat"] = LastHeartbeat?.ToString("O"),
        ["unreachable_since"] = UnreachableSince?.ToString("O"),
        ["hardware"] = withHardware ? Hardware?.DeepClone() : null,
    };

    /// <summary>A member from another node's JSON (what it says of itself or of others); the state is the sender's view.</summary>
    public static ClusterMember FromJson(JsonObject json)
    {
        var id = (string?)json["id"] ?? throw new InvalidDataException("member: missing \"id\"");
        var name = (string?)json["name"] ?? throw new InvalidDataException($"member {id}: missing \"name\"");
        var url = (string?)json["url"] ?? throw new InvalidDataException($"member {id}: missing \"url\"");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new InvalidDataException($"member {id}: url \"{url}\" is not an http URL");
        return new ClusterMember(id, name, url)
        {
            State = Enum.TryParse<MemberState>((string?)json["state"], ignoreCase: true, out var s) ? s : MemberState.Joining,
            Hardware = json["hardware"] as JsonObject is { } hw ? hw.DeepClone().AsObject() : null,
            Running = (int?)json["running"] ?? 0,
            Queued = (int?)json["queued"] ?? 0,
            Version = (string?)json["version"],
        };
    }
}
