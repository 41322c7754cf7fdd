namespace FineTuneAgent.Core.Plugins;

/// <summary>How a <see cref="PluginHost"/> notices rebuilt plugins.</summary>
public sealed record PluginHostOptions
{
    /// <summary>
    /// Watch the plugins folder and refresh by itself after changes settle. Off by default: a
    /// one-shot command needs no watcher; the agent turns it on. <see cref="PluginHost.Refresh"/>
    /// works either way. A plugins folder that does not exist when the host starts is not watched.
    /// </summary>
    public bool Watch { get; init; }

    /// <summary>
    /// How long the folder must be quiet before a watched change is loaded: a build writes the
    /// dll, pdb and deps.json one after another.
    /// </summary>
    public TimeSpan Debounce { get; init; } = TimeSpan.FromMilliseconds(500);
}
