namespace FineTuneAgent.Core.Plugins;

/// <summary>Where a plugin stands in the host, as listings show it.</summary>
public enum PluginStatus
{
    /// <summary>The current build is loaded and serves new runs.</summary>
    Loaded,

    /// <summary>
    /// A newer build of the folder failed to load; the previous good build keeps serving new
    /// runs, and the next change to the folder is tried again.
    /// </summary>
    ReloadFailed,

    /// <summary>The folder's assembly loaded but holds no template or method implementation.</summary>
    NoImplementations,

    /// <summary>The folder could not be loaded (not an assembly, a type that does not load, a constructor that threw).</summary>
    Failed,

    /// <summary>A superseded build that runs still hold; it is unloaded when the last lease is released.</summary>
    Draining,
}
