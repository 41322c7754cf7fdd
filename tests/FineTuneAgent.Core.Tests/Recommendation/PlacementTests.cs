using System.Text.Json.Nodes;
using FineTuneAgent.Core.Hardware;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Recommendation;
using FineTuneAgent.Core.Tests.Datasets;

namespace FineTuneAgent.Core.Tests.Recommendation;

/// <summary>Placement over the repository's hardware profiles: the member where the best method is best wins, then the less loaded, then the one with more memory.</summary>
public sealed class PlacementTests
{
    private static readonly Lazy<PluginHost> s_host = new(() => PluginHost.Load(Path.Combine(AppContext.BaseDirectory, "plugins")));
    private static string Folder => Path.Combine(RealTokenizers.RepoRoot, "profiles");

    private static HardwareProfile Profile(string name) => HardwareProfiles.Named(HardwareProfiles.Load(Folder), name);

    private static PlacementDecision Place(string size, string arch, params PlacementCandidate[] members) =>
        Placement.Choose(new Recommender(s_host.Value.Method), ReferenceModels.Config(size, arch), $"{arch} {size}", members);

    [Fact]
    public void A7BLlama_GoesToTheA100_WhereTheRecommenderCanUseTheBestMethod()
    {
        var d = Place("7B", "llama", new("ws-3060", Profile("rtx-3060-12gb")), new("ws-4090", Profile("rtx-4090-24gb")), new("ws-a100", Profile("a100-80gb")));
        Assert.Equal("ws-a100", d.Chosen!.Member);
        Assert.Equal(["ws-a100", "ws-4090", "ws-3060"], d.Ranking.Select(o => o.Member));
        // Each member's own recommendation, independently: the ranking follows the quality order of what each can train.
        var quality = Recommender.Candidates.Select(c => c.Label).ToList();
        var indices = d.Ranking.Select(o => quality.IndexOf(o.Plan!.Label)).ToList();
        Assert.Equal(indices.Order(), indices);
        Assert.True(indices[0] < indices[2]);
        Assert.StartsWith("ws-a100 is chosen: ", d.Reasons[0]);
        Assert.Contains(Recommender.Gb(d.Chosen.Plan!.Estimate.TotalBytes), d.Reasons[0]);
    }

    [Fact]
    public void AmongEquals_TheLessLoadedMemberWins_AndDataParallelIsSuggested()
    {
        var d = Place("7B", "llama", new("busy", Profile("rtx-4090-24gb"), Running: 1, Queued: 2), new("idle", Profile("rtx-4090-24gb")));
        Assert.Equal("idle", d.Chosen!.Member);
        Assert.Contains(d.Reasons, r => r.StartsWith("busy can also train", StringComparison.Ordinal) && r.Contains("data-parallel across 2 members", StringComparison.Ordinal));
    }

    [Fact]
    public void AModelNoMemberFits_IsPlacedNowhere_AndTheReasonSaysDataParallelDoesNotHelp()
    {
        var d = Place("70B", "llama", new("ws-3060", Profile("rtx-3060-12gb")), new("cpu", Profile("cpu-only")));
        Assert.Null(d.Chosen);
        Assert.All(d.Ranking, o => Assert.Null(o.Plan));
        Assert.Contains("every worker holds a whole copy", d.Reasons[0]);
    }

    [Fact]
    public void AMembersHardwareReport_AsItsHeartbeatsCarryIt_BecomesItsProfile()
    {
        var report = new HardwareProbe { NvidiaSmiExecutable = "/nonexistent/nvidia-smi" }.Probe();
        var json = JsonNode.Parse(report.ToJson().ToJsonString())!.AsObject(); // through text, as over HTTP
        var candidate = PlacementCandidate.FromHardwareJson("me", json, running: 1, queued: 0);
        Assert.Equal(HardwareProfile.ThisMachine(report), candidate.Profile);
        Assert.Equal(1, candidate.Running);
    }
}
