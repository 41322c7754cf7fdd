namespace FineTuneAgent.Agent.Cluster;

/// <summary>The HTTP client every agent-to-agent call goes through: it carries the cluster token.</summary>
internal static class PeerHttp
{
    public static HttpClient Create(string? clusterToken, TimeSpan timeout)
    {
        var http = new HttpClient { Timeout = timeout };
        if (clusterToken is not null)
            http.DefaultRequestHeaders.Add(ClusterNode.TokenHeader, clusterToken);
        return http;
    }
}
