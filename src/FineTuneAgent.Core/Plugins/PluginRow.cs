using System.Text.Json.Serialization;

namespace FineTuneAgent.Core.Plugins;

/// <summary>One plugin as `fta plugins --json` and the agent's API list it.</summary>
public sealed record PluginRow(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("kind")] string? Kind,
    [property: JsonPropertyName("version")] string? Version,
    [property: JsonPropertyName("folder")] string Folder,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("reason"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason,
    [property: JsonPropertyName("leases")] int Leases)
{
    public static PluginRow Of(PluginInfo p) => new(p.Name, p.Kind?.ToString().ToLowerInvariant(), p.Version, p.Folder, StatusName(p.Status), p.Reason, p.Leases);

    private static string StatusName(PluginStatus status) => status switch
    {
        PluginStatus.Loaded => "loaded",
        PluginStatus.ReloadFailed => "reload-failed",
        PluginStatus.NoImplementations => "no-implementations",
        PluginStatus.Draining => "draining",
        _ => "failed",
    };
}
