namespace FineTuneAgent.Core.Plugins;

/// <summary>
/// One row of the plugin listing: an implementation of a loaded (or draining) build, or a plugin
/// folder that offers nothing, with the reason. <paramref name="Kind"/> is null for a folder with
/// no implementation to name; <paramref name="Version"/> is null when no assembly could be read.
/// <paramref name="Leases"/> counts the runs holding this build.
/// </summary>
public sealed record PluginInfo(string Name, PluginKind? Kind, string? Version, string Folder, PluginStatus Status, string? Reason, int Leases)
{
    /// <summary>Whether the folder's latest build did not load (whether or not an older build still serves).</summary>
    public bool IsFailure => Status is PluginStatus.Failed or PluginStatus.ReloadFailed;
}
