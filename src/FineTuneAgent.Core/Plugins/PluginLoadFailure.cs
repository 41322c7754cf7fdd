namespace FineTuneAgent.Core.Plugins;

/// <summary>
/// Why a folder's build did not load. <paramref name="Version"/> is known when the assembly
/// itself loaded; <paramref name="NoImplementations"/> marks a valid assembly that offers nothing.
/// </summary>
internal sealed record PluginLoadFailure(string Reason, string? Version = null, bool NoImplementations = false);
