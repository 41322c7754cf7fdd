using System.Globalization;

namespace FineTuneAgent.Core.Config;

/// <summary>
/// agent.cluster: how this agent finds and watches its peers. The failure detector is a phi
/// accrual detector as in Akka: a peer whose silence makes phi exceed the threshold is unreachable.
/// </summary>
public sealed record ClusterSettings : IValidatedSettings
{
    /// <summary>Peers to join, as host:port of their HTTP API.</summary>
    public IReadOnlyList<string> Seeds { get; init; } = [];

    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Phi above which a peer is unreachable (Akka's default, 8, is a mistake about once in 10^8 heartbeats).</summary>
    public double FailureDetectorThreshold { get; init; } = 8.0;

    /// <summary>A pause in heartbeats this long is still normal (a GC, a busy core): added to the expected interval, as Akka's acceptable-heartbeat-pause.</summary>
    public TimeSpan AcceptableHeartbeatPause { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>An unreachable member is down (given up on) after this long; down for as long again, removed.</summary>
    public TimeSpan DownAfter { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The secret peers present to each other; required as soon as there are seeds.</summary>
    public string? ClusterToken { get; init; }

    /// <summary>Whether this agent takes part in a pool: it has seeds to join, or a token others join it with.</summary>
    public bool IsEnabled => Seeds.Count > 0 || !string.IsNullOrEmpty(ClusterToken);

    public IEnumerable<(string Key, string Message)> Validate()
    {
        foreach (var seed in Seeds)
        {
            var colon = seed.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(seed.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
                yield return ("seeds", $"expected host:port, got \"{seed}\"");
        }
        if (HeartbeatInterval <= TimeSpan.Zero)
            yield return ("heartbeat-interval", $"must be above 0, got {HeartbeatInterval}");
        if (!double.IsFinite(FailureDetectorThreshold) || FailureDetectorThreshold <= 0)
            yield return ("failure-detector-threshold", $"must be above 0, got {FailureDetectorThreshold.ToString(CultureInfo.InvariantCulture)}");
        if (AcceptableHeartbeatPause < TimeSpan.Zero)
            yield return ("acceptable-heartbeat-pause", $"must not be negative, got {AcceptableHeartbeatPause}");
        if (DownAfter <= TimeSpan.Zero)
            yield return ("down-after", $"must be above 0, got {DownAfter}");
        if (Seeds.Count > 0 && string.IsNullOrEmpty(ClusterToken))
            yield return ("cluster-token", "is needed to join seeds: peers authenticate with it");
    }
}
