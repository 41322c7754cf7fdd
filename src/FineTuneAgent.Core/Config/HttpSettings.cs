using System.Net;

namespace FineTuneAgent.Core.Config;

/// <summary>
/// agent.http: where the agent's HTTP API listens. Loopback by default; any other address
/// needs an auth token (DESIGN.md: a shared secret before the API is reachable from the network).
/// </summary>
public sealed record HttpSettings : IValidatedSettings
{
    public string BindAddress { get; init; } = "127.0.0.1";

    /// <summary>0 picks a free port (useful for tests).</summary>
    public int Port { get; init; } = 8470;

    /// <summary>The bearer token every request must carry; null: no authentication (loopback only).</summary>
    public string? AuthToken { get; init; }

    /// <summary>Larger request bodies are refused with 413.</summary>
    [SizeInBytes]
    public long MaxRequestBodySize { get; init; } = 1024 * 1024;

    /// <summary>Whether <see cref="BindAddress"/> is reachable only from this machine.</summary>
    public bool IsLoopback => BindAddress == "localhost" || (IPAddress.TryParse(BindAddress, out var ip) && IPAddress.IsLoopback(ip));

    public IEnumerable<(string Key, string Message)> Validate()
    {
        if (BindAddress != "localhost" && !IPAddress.TryParse(BindAddress, out _))
            yield return ("bind-address", $"expected an IP address (such as 127.0.0.1, 0.0.0.0 or ::1) or localhost, got \"{BindAddress}\"");
        else if (!IsLoopback && string.IsNullOrEmpty(AuthToken))
            yield return ("bind-address", $"listening on {BindAddress} opens the API to the network; set agent.http.auth-token first");
        if (Port is < 0 or > 65535)
            yield return ("port", $"must be from 0 to 65535, got {Port}");
        if (AuthToken is { Length: > 0 and < 16 })
            yield return ("auth-token", $"must be at least 16 characters, got {AuthToken.Length}");
        if (MaxRequestBodySize < 1024)
            yield return ("max-request-body-size", $"must be at least 1KiB, got {MaxRequestBodySize} bytes");
    }
}
