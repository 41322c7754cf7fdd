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

    /// <summary>The secret peers present to each other; required as soon as there are seeds.</summary>
    public string? ClusterToken { get; init; }

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
        if (Seeds.Count > 0 && string.IsNullOrEmpty(ClusterToken))
            yield return ("cluster-token", "is needed to join seeds: peers authenticate with it");
    }
}
