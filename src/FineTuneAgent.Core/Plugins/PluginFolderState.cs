namespace FineTuneAgent.Core.Plugins;

/// <summary>What the host knows about one plugin folder: the build serving it and how the latest attempt went.</summary>
internal sealed class PluginFolderState(string path)
{
    public string Path { get; } = path;

    /// <summary>The build that serves new runs, or null when no build of this folder ever loaded.</summary>
    public PluginGeneration? Current { get; set; }

    /// <summary>Why the latest build did not load; null when it did.</summary>
    public PluginLoadFailure? Failure { get; set; }

    /// <summary>The fingerprint last tried, so an unchanged (good or bad) folder is not loaded again.</summary>
    public string? AttemptedFingerprint { get; set; }
}
