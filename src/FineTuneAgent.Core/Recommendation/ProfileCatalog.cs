using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Core.History;
using FineTuneAgent.Core.Plugins;

namespace FineTuneAgent.Core.Recommendation;

/// <summary>
/// Hardware profiles as the history keeps them: each profile with its feasibility matrix and the version of the
/// estimator that computed it. The version is a hash over the method plugins' contents (their estimates are the
/// numbers) and this assembly's recommender, so a changed estimator makes every stored matrix stale, and
/// <see cref="Stale"/> lists the profiles to recompute.
/// </summary>
public static class ProfileCatalog
{
    private static readonly JsonSerializerOptions s_json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) } };

    public static string EstimatorVersion(PluginHost plugins)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var method in plugins.Plugins.Where(p => p.Kind == PluginKind.Method).OrderBy(p => p.Folder, StringComparer.Ordinal))
            hash.AppendData(Encoding.UTF8.GetBytes(PluginFingerprint.Of(method.Folder)));
        hash.AppendData(Encoding.UTF8.GetBytes(typeof(Recommender).Assembly.ManifestModule.ModuleVersionId.ToString()));
        return Convert.ToHexString(hash.GetHashAndReset())[..16].ToLowerInvariant();
    }

    /// <summary>The profiles whose stored entry is missing, differs, or was computed by another estimator.</summary>
    public static IReadOnlyList<HardwareProfile> Stale(HistoryReader reader, IReadOnlyList<HardwareProfile> profiles, string estimatorVersion)
    {
        var stored = reader.ListHardwareProfiles().ToDictionary(e => e.Name);
        return profiles.Where(p => !stored.TryGetValue(p.Name, out var e) || e.EstimatorVersion != estimatorVersion || e.Feasibility is null
            || !JsonNode.DeepEquals(e.Profile, ToJson(p))).ToList();
    }

    public static HardwareProfileEntry Entry(HardwareProfile profile, Recommender recommender, string estimatorVersion) =>
        new(profile.Name, ToJson(profile), FeasibilityMatrix.Compute(recommender, profile), estimatorVersion);

    public static JsonObject ToJson(HardwareProfile profile) => JsonSerializer.SerializeToNode(profile, s_json)!.AsObject();

    public static HardwareProfile FromJson(JsonObject json) => json.Deserialize<HardwareProfile>(s_json)!;
}
