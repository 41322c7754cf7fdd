using System.Text.Json.Nodes;
using FineTuneAgent.Agent.Cluster;

namespace FineTuneAgent.Agent.Tests;

/// <summary>The preflight report: every fact that must match across workers, compared with the coordinator's, and every unreachable port named.</summary>
public sealed class PreflightTests
{
    private static JsonObject Facts(string modelHash = "aa", string lora = "1.0.0", bool reaches = true) => new()
    {
        ["agent_version"] = "1.0.0.0",
        ["libtorch"] = "1.13.1",
        ["shim_abi"] = 4,
        ["gloo"] = true,
        ["plugins"] = new JsonObject { ["lora"] = lora, ["qwen3"] = "1.0.0" },
        ["model_hash"] = modelHash,
        ["dataset_hashes"] = new JsonObject { ["/data/a.jsonl"] = "dd" },
        ["reaches"] = new JsonObject { ["29500"] = reaches ? new JsonObject { ["ok"] = true } : new JsonObject { ["ok"] = false, ["error"] = "Connection refused" } },
    };

    [Fact]
    public void IdenticalMembers_Pass()
    {
        var report = Preflight.Compare([("alpha", Facts(), null), ("beta", Facts(), null)]);
        Assert.True((bool)report["ok"]!);
        Assert.Empty(report["problems"]!.AsArray());
    }

    [Fact]
    public void EachDifference_AndEachUnreachablePortOrSilentMember_IsNamed()
    {
        var report = Preflight.Compare([("alpha", Facts(), null), ("beta", Facts(modelHash: "bb", lora: "1.0.1"), null),
            ("gamma", Facts(reaches: false), null), ("delta", null, "connection refused")]);
        Assert.False((bool)report["ok"]!);
        var problems = report["problems"]!.AsArray().Select(p => (string)p!).ToList();
        Assert.Contains("delta did not answer the preflight: connection refused", problems);
        Assert.Contains(problems, p => p.StartsWith("model_hash differs: alpha has \"aa\", beta has \"bb\"", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("plugins differs: alpha has", StringComparison.Ordinal) && p.Contains("1.0.1", StringComparison.Ordinal));
        Assert.Contains("gamma cannot reach the coordinator's port 29500: Connection refused", problems);
        Assert.Equal(4, problems.Count);
    }
}
