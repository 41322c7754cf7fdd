using System.Text.Json.Nodes;
using FineTuneAgent.Agent.Cluster;

namespace FineTuneAgent.Agent.Tests;

/// <summary>The preflight report: every fact that must match across workers, compared with the coordinator's, and every unreachable port named.</summary>
public sealed class PreflightTests
{
    private static JsonObject Facts(string modelHash = "aa", string lora = "1.0.0", bool reaches = true, bool nccl = false, int cudaDevices = 0) => new()
    {
        ["agent_version"] = "1.0.0.0",
        ["libtorch"] = "1.13.1",
        ["shim_abi"] = 4,
        ["gloo"] = true,
        ["nccl"] = nccl,
        ["cuda"] = nccl || cudaDevices > 0,
        ["cuda_devices"] = cudaDevices,
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

    [Fact]
    public void CudaRun_NamesEachMemberWithoutNcclOrAGpu()
    {
        var gpu = Facts(nccl: true, cudaDevices: 2);
        var answers = new List<(string, JsonObject?, string?)>
        {
            ("alpha", gpu, null), ("beta", Facts(nccl: false, cudaDevices: 1), null), ("gamma", Facts(nccl: true, cudaDevices: 0), null),
            ("delta", Facts(nccl: true, cudaDevices: 1), null),
        };
        var report = Preflight.Compare(answers, cuda: true);
        Assert.False((bool)report["ok"]!);
        var problems = report["problems"]!.AsArray().Select(p => (string)p!).ToList();
        Assert.Equal(
        [
            "beta: the run trains on CUDA over NCCL, but its native shim was built without NCCL (CUDA build: yes)",
            "gamma: the run trains on CUDA, but libtorch there reports no CUDA device (CUDA build: yes, CUDA devices: 0)",
        ], problems);
    }

    [Fact]
    public void CpuRun_DoesNotAskForNcclOrAGpu()
    {
        var report = Preflight.Compare([("alpha", Facts(), null), ("beta", Facts(nccl: false, cudaDevices: 0), null)], cuda: false);
        Assert.True((bool)report["ok"]!);
        var cuda = Preflight.Compare([("alpha", Facts(), null), ("beta", Facts(), null)], cuda: true);
        Assert.Equal(4, cuda["problems"]!.AsArray().Count); // both members lack NCCL and a GPU
    }

    [Fact]
    public void LocalRanks_CountWorkersOnTheSameHost()
    {
        Assert.Equal([0, 0, 1, 1, 2], DistributedRuns.LocalRanks(["10.0.0.1", "10.0.0.2", "10.0.0.1", "10.0.0.2", "10.0.0.1"]));
        Assert.Equal([0, 1, 2], DistributedRuns.LocalRanks(["127.0.0.1", "127.0.0.1", "127.0.0.1"]));
    }
}
