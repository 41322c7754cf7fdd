using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Core.Hardware;
using FineTuneAgent.Modeling.Config;

namespace FineTuneAgent.Core.Recommendation;

/// <summary>A pool member a run could go to: its hardware as a profile, and how many runs it already has.</summary>
public sealed record PlacementCandidate(string Member, HardwareProfile Profile, int Running = 0, int Queued = 0)
{
    /// <summary>A member from its probe's report (the JSON its heartbeats carry, `fta hw --json`'s object).</summary>
    public static PlacementCandidate FromHardwareJson(string member, JsonObject hardware, int running, int queued) =>
        new(member, HardwareProfile.ThisMachine(hardware.Deserialize<HardwareReport>(HardwareReport.JsonOptions)
            ?? throw new InvalidDataException($"member {member}: no hardware report")), running, queued);
}

/// <summary>What the recommender says for one member (null plan: nothing fits it).</summary>
public sealed record PlacementOption(string Member, TrainingPlan? Plan, long UsableBytes, int Load, string Reason);

/// <summary>The member chosen (null when none fits), every member ranked, and why.</summary>
public sealed record PlacementDecision(PlacementOption? Chosen, IReadOnlyList<PlacementOption> Ranking, IReadOnlyList<string> Reasons)
{
    public JsonObject ToJson() => new()
    {
        ["chosen"] = Chosen?.Member,
        ["method"] = Chosen?.Plan?.Label,
        ["ranking"] = new JsonArray(Ranking.Select(o => (JsonNode)new JsonObject
        {
            ["member"] = o.Member,
            ["method"] = o.Plan?.Label,
            ["fits"] = o.Plan is not null,
            ["estimate_bytes"] = o.Plan?.Estimate.TotalBytes,
            ["usable_bytes"] = o.UsableBytes,
            ["load"] = o.Load,
            ["reason"] = o.Reason,
        }).ToArray()),
        ["reasons"] = new JsonArray(Reasons.Select(r => (JsonNode?)r).ToArray()),
    };
}

/// <summary>
/// Where in the pool a run goes: the member on which the recommender's best method is the best (Full > Freeze > DoRA
/// > LoRA > QLoRA-8 > QLoRA-4); among equals the one with fewer runs, then the one with more usable memory. A run
/// that fits no single member fits no data-parallel pool either (each worker holds a whole copy), which the reasons
/// say; when several members can take the best method, they say data-parallel across them would shorten the run.
/// </summary>
public static class Placement
{
    public static PlacementDecision Choose(Recommender recommender, ModelConfig config, string modelName, IEnumerable<PlacementCandidate> candidates, int sequenceLength = 1024)
    {
        ArgumentNullException.ThrowIfNull(recommender);
        var quality = Recommender.Candidates.Select(c => c.Label).ToList();
        var options = new List<PlacementOption>();
        foreach (var c in candidates)
        {
            var (budget, request) = c.Profile.Plan();
            var r = recommender.Recommend(config, modelName, budget, request with { SequenceLength = sequenceLength });
            var load = c.Running + c.Queued;
            options.Add(r.Chosen is { } plan
                ? new PlacementOption(c.Member, plan, budget.UsableBytes, load,
                    $"{c.Member}: {plan.Label} fits ({Recommender.Gb(plan.Estimate.TotalBytes)} of {Recommender.Gb(budget.UsableBytes)} usable on {budget.Device}), {load} run(s) there")
                : new PlacementOption(c.Member, null, budget.UsableBytes, load, $"{c.Member}: nothing fits ({Recommender.Gb(budget.UsableBytes)} usable on {budget.Device})"));
        }
        if (options.Count == 0)
            return new PlacementDecision(null, [], ["the pool has no member up to place the run on"]);
        var ranking = options
            .OrderBy(o => o.Plan is null ? int.MaxValue : quality.IndexOf(o.Plan.Label))
            .ThenBy(o => o.Load)
            .ThenByDescending(o => o.UsableBytes)
            .ThenBy(o => o.Member, StringComparer.Ordinal)
            .ToList();
        var chosen = ranking[0].Plan is null ? null : ranking[0];
        var reasons = new List<string>();
        if (chosen is null)
        {
            reasons.Add($"No member fits {modelName}: data-parallel training would not help, since every worker holds a whole copy of the model. Use a member with more free memory or a shorter cutoff.");
        }
        else
        {
            reasons.Add($"{chosen.Member} is chosen: {chosen.Reason[(chosen.Member.Length + 2)..]}.");
            var peers = ranking.Skip(1).Where(o => o.Plan?.Label == chosen.Plan!.Label).Select(o => o.Member).ToList();
            if (peers.Count > 0)
                reasons.Add($"{string.Join(", ", peers)} can also train {chosen.Plan!.Label}: data-parallel across {peers.Count + 1} members would shorten the run.");
        }
        reasons.AddRange(ranking.Skip(1).Select(o => o.Reason));
        return new PlacementDecision(chosen, ranking, reasons);
    }
}
