namespace FineTuneAgent.Core.Plugins;

/// <summary>One template or method instance a plugin build provides, under the name it gives itself.</summary>
internal sealed record PluginImplementation(string Name, PluginKind Kind, object Instance);
