using System.Text.Json.Nodes;

namespace FineTuneAgent.Core.Recommendation;

/// <summary>
/// For one profile: every reference model size (Qwen3 0.6B … 32B, Llama 7B … 70B) × every method, whether it
/// fits (in its leanest fitting shape) and the memory it needs, and the method the recommender would pick.
/// </summary>
public static class FeasibilityMatrix
{
    public static readonly IReadOnlyList<(string Arch, string Size)> Models =
    [
        ("qwen3", "0.6B"), ("qwen3", "1.7B"), ("qwen3", "4B"), ("qwen3", "8B"), ("qwen3", "14B"), ("qwen3", "32B"),
        ("llama", "7B"), ("llama", "13B"), ("llama", "30B"), ("llama", "70B"),
    ];

    public static JsonObject Compute(Recommender recommender, HardwareProfile profile, int sequenceLength = 1024)
    {
        var (budget, request) = profile.Plan();
        request = request with { SequenceLength = sequenceLength };
        var rows = new JsonArray();
        foreach (var (arch, size) in Models)
        {
            var r = recommender.Recommend(ReferenceModels.Config(size, arch), $"{arch} {size}", budget, request);
            var plans = new[] { r.Chosen }.OfType<TrainingPlan>().Concat(r.Alternatives).Concat(r.DoesNotFit);
            var methods = new JsonObject();
            foreach (var (label, _, _) in Recommender.Candidates)
            {
                var p = plans.Single(x => x.Label == label);
                methods[label] = new JsonObject
                {
                    ["fits"] = p.Fits,
                    ["gb"] = Math.Round(p.Estimate.TotalBytes / 1e9, 1),
                    ["micro_batch"] = p.MicroBatchSize,
                    ["gradient_checkpointing"] = p.GradientCheckpointing,
                };
            }
            rows.Add(new JsonObject { ["model"] = $"{arch} {size}", ["recommended"] = r.Chosen?.Label, ["methods"] = methods });
        }
        return new JsonObject
        {
            ["profile"] = profile.Name,
            ["usable_gb"] = Math.Round(budget.UsableBytes / 1e9, 1),
            ["sequence_length"] = sequenceLength,
            ["rows"] = rows,
        };
    }
}
