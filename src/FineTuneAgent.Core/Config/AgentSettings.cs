namespace FineTuneAgent.Core.Config;

/// <summary>
/// The agent's configuration: the <c>agent</c> object of agent.hocon, bound by
/// <see cref="ConfigBinder"/> (kebab-case keys). Defaults here are the built-in ones and match
/// the comments in the repository's agent.hocon (a test holds them equal).
/// </summary>
public sealed record AgentSettings : IValidatedSettings
{
    /// <summary>How peers and the console name this agent.</summary>
    public string Name { get; init; } = Environment.MachineName;

    /// <summary>Where runs are recorded (as <c>fta train --runs-dir</c>).</summary>
    public string RunsDirectory { get; init; } = DataFolder("runs");

    /// <summary>The template and method plugins.</summary>
    public string PluginsDirectory { get; init; } = Path.Combine(AppContext.BaseDirectory, "plugins");

    /// <summary>Models the agent manages (downloaded or written by <c>fta model init</c>).</summary>
    public string ModelsDirectory { get; init; } = DataFolder("models");

    public HttpSettings Http { get; init; } = new();

    public TrainingDefaults Training { get; init; } = new();

    public ClusterSettings Cluster { get; init; } = new();

    public LoggingSettings Logging { get; init; } = new();

    /// <summary>$XDG_DATA_HOME/fta/<paramref name="name"/>, else ~/.local/share/fta/<paramref name="name"/> (the runs store's convention).</summary>
    public static string DataFolder(string name)
    {
        var data = Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(data, "fta", name);
    }

    public IEnumerable<(string Key, string Message)> Validate()
    {
        if (string.IsNullOrWhiteSpace(Name))
            yield return ("name", "must not be empty");
        foreach (var (key, folder) in new[] { ("runs-directory", RunsDirectory), ("plugins-directory", PluginsDirectory), ("models-directory", ModelsDirectory) })
        {
            if (string.IsNullOrWhiteSpace(folder))
                yield return (key, "must not be empty");
        }
    }
}
