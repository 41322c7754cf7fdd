using System.Text.Json.Nodes;

namespace FineTuneAgent.Core.History;

/// <summary>
/// One row of <c>hardware_profiles</c>: a hardware class (a profiles/ file, or the detected machine), its
/// feasibility matrix (model sizes × methods), and the estimator version that computed it, so a changed
/// estimator knows which rows to recompute.
/// </summary>
public sealed record HardwareProfileEntry(string Name, JsonObject Profile, JsonObject? Feasibility, string? EstimatorVersion)
{
    public DateTimeOffset UpdatedAt { get; init; } = DateTimeOffset.UtcNow;
}
