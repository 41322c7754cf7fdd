using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Core.History;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Console.Tests;

/// <summary>
/// `fta agent` as a process: a run survives the agent being killed (SIGKILL: the next agent resumes it from its last
/// checkpoint) or stopped (SIGTERM: it checkpoints, is recorded interrupted, and the next agent finishes it), with
/// every step once in the history; `fta train` follows a run on a running agent; one agent per runs folder.
/// </summary>
public sealed class AgentDaemonTests : IDisposable
{
    private const int Steps = 24;
    private readonly string _runs = Directory.CreateTempSubdirectory("fta-agent-proc-").FullName;

    public void Dispose() => Directory.Delete(_runs, recursive: true);

    /// <summary>Full fine-tuning of the built-in tiny model: a fraction of a second per step here.</summary>
    private static JsonObject Run(int saveSteps) => new()
    {
        ["method"] = "full",
        ["training"] = new JsonObject { ["max_steps"] = Steps, ["save_steps"] = saveSteps, ["learning_rate"] = 1e-4, ["cutoff_len"] = 128 },
        ["evaluation"] = new JsonObject { ["enabled"] = false },
    };

    /// <summary>The run's step numbers, from the history and from metrics.jsonl: each must hold every step exactly once.</summary>
    private (List<int> History, List<int> Jsonl, RunStatus Status) Recorded(string id)
    {
        using var reader = HistoryStore.Open(HistoryStore.DefaultPath(_runs)).OpenReader();
        var history = reader.Metrics(id, HistoryMetricKind.Train).Select(m => m.Step).ToList();
        var jsonl = new RunStore(_runs).Metrics(id).Where(m => (string?)m["event"] == "step").Select(m => (int)m["step"]!).ToList();
        return (history, jsonl, reader.GetRun(id).Status);
    }

    [Fact]
    public async Task KilledMidTraining_TheNextAgentResumesTheRunFromItsCheckpoint_AndItsHistoryHasEveryStepOnce()
    {
        string id;
        using (var first = AgentProcess.Start(_runs))
        {
            id = await first.Submit(Run(saveSteps: 3));
            await first.WaitFor(id, r => AgentProcess.LastStep(r) >= 7);
            first.Kill();
        }
        Assert.Equal(RunStatus.Running, new RunStore(_runs).Get(id).Status); // as the dead agent left it

        using var second = AgentProcess.Start(_runs);
        var done = await second.WaitFor(id, r => AgentProcess.Status(r) is "completed" or "failed" or "cancelled");
        Assert.Equal("completed", AgentProcess.Status(done));
        Assert.Matches($"recovered run {id}: queued, resumes from .*checkpoint-(6|9|12|15|18|21)", second.Output);
        var (history, jsonl, status) = Recorded(id);
        Assert.Equal(Enumerable.Range(1, Steps), history);
        Assert.Equal(Enumerable.Range(1, Steps), jsonl);
        Assert.Equal(RunStatus.Completed, status);
        Assert.Equal(0, second.Terminate(TimeSpan.FromMinutes(2)));
    }

    [Fact]
    public async Task Sigterm_CheckpointsTheRunningRun_RecordsItInterrupted_AndTheNextAgentFinishesIt()
    {
        string id;
        using (var first = AgentProcess.Start(_runs))
        {
            id = await first.Submit(Run(saveSteps: 1000)); // no periodic checkpoint: the one it has is the shutdown's
            await first.WaitFor(id, r => AgentProcess.LastStep(r) >= 3);
            Assert.Equal(0, first.Terminate(TimeSpan.FromMinutes(2)));
            Assert.Contains("runs stopped", first.Output);
        }
        var record = new RunStore(_runs).Get(id);
        Assert.Equal(RunStatus.Interrupted, record.Status);
        var checkpoint = CheckpointFolder.Latest(record.OutputDirectory);
        Assert.NotNull(checkpoint);
        var saved = TrainerState.Read(checkpoint).GlobalStep;
        Assert.InRange(saved, 3, Steps - 1);
        Assert.Equal(RunStatus.Interrupted, Recorded(id).Status);

        using var second = AgentProcess.Start(_runs);
        var done = await second.WaitFor(id, r => AgentProcess.Status(r) is "completed" or "failed" or "cancelled");
        Assert.Equal("completed", AgentProcess.Status(done));
        Assert.Contains($"recovered run {id}: queued, resumes from {checkpoint}", second.Output);
        var (history, jsonl, status) = Recorded(id);
        Assert.Equal(Enumerable.Range(1, Steps), history);
        Assert.Equal(Enumerable.Range(1, Steps), jsonl);
        Assert.Equal(RunStatus.Completed, status);
    }

    [Fact]
    public async Task Train_WithARunningAgent_SubmitsToItAndFollowsTheRun_AndAFailureOnTheAgentIsReported()
    {
        using var agent = AgentProcess.Start(_runs);
        // The agent serving --runs-dir is found through its agent.json; the run's events stream back as --json lines.
        var (code, stdout, stderr) = Fta.Run("train", "--method", "full", "--max-steps", "3", "--json", "--no-eval", "--runs-dir", _runs);
        Assert.True(code == 0, stderr + stdout);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Contains(lines, l => ((string?)l["text"])?.Contains($"submitted to the agent at {agent.Url}", StringComparison.Ordinal) == true);
        Assert.Equal([1, 2, 3], lines.Where(l => (string?)l["event"] == "step").Select(l => (int)l["step"]!));
        var summary = lines[^1];
        Assert.Equal("summary", (string?)summary["event"]);
        var id = (string)summary["run_id"]!;
        // The agent ran it: its record is in the agent's runs folder, with the agent's output folder.
        Assert.Equal(Path.Combine(_runs, id, "output"), new RunStore(_runs).Get(id).OutputDirectory);

        // `fta runs delete` goes through the agent's writer: the run leaves the agent's own listing.
        (code, stdout, stderr) = Fta.Run("runs", "delete", id, "--runs-dir", _runs);
        Assert.True(code == 0, stderr + stdout);
        var listed = JsonNode.Parse(await agent.Http.GetStringAsync("api/v1/runs"))!["runs"]!.AsArray();
        Assert.DoesNotContain(listed, r => (string?)r!["id"] == id);

        // A data file that does not exist fails on the agent; the reason comes back as one line.
        (code, stdout, stderr) = Fta.Run("train", "--method", "full", "--max-steps", "3", "--data", "no-such-file.jsonl", "--agent", agent.Url.ToString(), "--runs-dir", _runs);
        Assert.Equal(1, code);
        Assert.Contains("failed on the agent at", stderr);
        Assert.Contains("no-such-file", stderr);
    }

    [Fact]
    public void ASecondAgentOnTheSameRunsFolder_RefusesToStart_NamingTheFirst()
    {
        using var agent = AgentProcess.Start(_runs);
        var (code, _, stderr) = Fta.RunWith(new Dictionary<string, string> { ["FTA_CONFIG"] = "" }, "agent", "--port", "0", "--runs-dir", _runs);
        Assert.Equal(1, code);
        Assert.Contains($"another agent (pid {agent.Pid}) already serves {_runs}", stderr);
    }
}
