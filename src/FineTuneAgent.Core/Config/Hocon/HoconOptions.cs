namespace FineTuneAgent.Core.Config.Hocon;

public sealed record HoconOptions
{
    /// <summary>
    /// Where a substitution not set in the configuration is looked up next (the spec's environment
    /// fallback); the process environment unless a test gives its own. An empty variable counts as set.
    /// </summary>
    public Func<string, string?> EnvironmentVariable { get; init; } = Environment.GetEnvironmentVariable;

    /// <summary>
    /// A resolved configuration underneath the parsed one, as Lightbend's reference.conf is under
    /// application.conf: the parsed document's values merge over it and its substitutions can
    /// refer to it (<c>port = ${agent.http.port}</c>, or a self-reference that builds on it).
    /// </summary>
    public HoconObject? Fallback { get; init; }
}
