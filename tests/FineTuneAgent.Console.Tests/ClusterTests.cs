using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace FineTuneAgent.Console.Tests;

/// <summary>
/// Three real agents on loopback form a pool through a seed: each sees the others up with their hardware; one killed
/// with SIGKILL is marked unreachable, then down, by the others within the time the failure detector's settings
/// give; one stopped with SIGTERM says it leaves and is removed at once; agent-to-agent calls need the cluster token.
/// </summary>
public sealed class ClusterTests(ITestOutputHelper output) : IDisposable
{
    private const string Token = "pool-secret-0123456789";

    // Fast settings for the test: 200 ms heartbeats, 600 ms acceptable pause, down 1 s after unreachable. A member
    // that stops is unreachable once φ > 8: mean 200 + pause 600 + 5.6 σ (σ ≥ 100 ms) ≈ 1.4 s after its last
    // heartbeat, checked every 200 ms; down 1 s later: ≈ 2.6 s in all. The test allows twice that.
    private static readonly TimeSpan s_documentedDown = TimeSpan.FromMilliseconds(200 + 600 + 560 + 200 + 1000 + 200);
    private readonly string _root = Directory.CreateTempSubdirectory("fta-cluster-").FullName;
    private readonly List<AgentProcess> _agents = [];

    public void Dispose()
    {
        foreach (var a in _agents)
            a.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    private static string Config(string name, string? seed) => $$"""
        agent {
          name = "{{name}}"
          cluster {
            {{(seed is null ? "" : $"seeds = [\"{seed}\"]")}}
            cluster-token = "{{Token}}"
            heartbeat-interval = 200ms
            acceptable-heartbeat-pause = 600ms
            down-after = 1s
          }
        }
        """;

    private AgentProcess Start(string name, string? seed)
    {
        var agent = AgentProcess.Start(Path.Combine(_root, name), Config(name, seed));
        _agents.Add(agent);
        return agent;
    }

    private static async Task<Dictionary<string, JsonObject>> Members(AgentProcess agent)
    {
        var json = JsonNode.Parse(await agent.Http.GetStringAsync("api/v1/cluster/members"))!.AsObject();
        return json["members"]!.AsArray().OfType<JsonObject>().ToDictionary(m => (string)m["name"]!, m => m);
    }

    private static async Task<Dictionary<string, JsonObject>> WaitFor(AgentProcess agent, Func<Dictionary<string, JsonObject>, bool> ok, string what, TimeSpan? patience = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var members = await Members(agent);
            if (ok(members))
                return members;
            if (clock.Elapsed > (patience ?? TimeSpan.FromMinutes(1)))
                Assert.Fail($"{what} never happened; members: {string.Join("; ", members.Values.Select(m => $"{m["name"]} {m["state"]} φ {m["phi"]}"))}");
            await Task.Delay(50);
        }
    }

    private static string State(Dictionary<string, JsonObject> members, string name) => members.TryGetValue(name, out var m) ? (string)m["state"]! : "absent";

    [Fact]
    public async Task ThreeAgents_JoinThroughASeed_SeeEachOther_AndAKilledOneIsMarkedDownInTime_AStoppedOneRemoved()
    {
        var alpha = Start("alpha", seed: null);
        var seed = $"{alpha.Url.Host}:{alpha.Url.Port}";
        var beta = Start("beta", seed);
        var gamma = Start("gamma", seed);

        // Everyone sees everyone up, with the hardware each reported (beta and gamma learn of each other through alpha).
        foreach (var agent in new[] { alpha, beta, gamma })
        {
            var members = await WaitFor(agent, m => new[] { "alpha", "beta", "gamma" }.All(n => State(m, n) == "up"), "three members up");
            Assert.All(members.Values, m => Assert.Equal(Environment.ProcessorCount, (int)m["hardware"]!["cpu"]!["logical_cores"]!));
        }

        // The console's dashboard shows the pool (here its no-terminal snapshot, which prints the same lines).
        var (code, screen, _) = Fta.Run("console", "--agent", alpha.Url.ToString());
        Assert.Equal(2, code);
        Assert.Matches(@"Pool (beta|gamma) up \(0 running\) · (beta|gamma) up", screen);

        // A run submitted to alpha for beta trains on beta, and alpha's history holds it as it went.
        const string run = """{"member": "beta", "method": "full", "training": {"max_steps": 3}, "evaluation": {"enabled": false}}""";
        using var placed = await alpha.Http.PostAsync("api/v1/runs", new StringContent(run, Encoding.UTF8, "application/json"));
        var answer = JsonNode.Parse(await placed.Content.ReadAsStringAsync())!;
        Assert.True(placed.StatusCode == HttpStatusCode.Accepted, answer.ToJsonString());
        Assert.Equal("beta", (string?)answer["member"]);
        var id = (string)answer["run_id"]!;
        await beta.WaitFor(id, r => AgentProcess.Status(r) == "completed");
        var clock = Stopwatch.StartNew();
        JsonNode mirrored;
        while ((string?)(mirrored = JsonNode.Parse(await alpha.Http.GetStringAsync($"api/v1/runs/{id}"))!)["status"] != "completed" && clock.Elapsed < TimeSpan.FromMinutes(1))
            await Task.Delay(100);
        Assert.Equal("completed", (string?)mirrored["status"]);
        var onBeta = JsonNode.Parse(await beta.Http.GetStringAsync($"api/v1/runs/{id}"))!;
        Assert.Equal(
            onBeta["metrics"]!.AsArray().Where(m => (string?)m!["kind"] == "train").Select(m => (double)m!["loss"]!),
            mirrored["metrics"]!.AsArray().Where(m => (string?)m!["kind"] == "train").Select(m => (double)m!["loss"]!));
        Assert.Equal(3, mirrored["metrics"]!.AsArray().Count(m => (string?)m!["kind"] == "train"));
        Assert.False(Directory.Exists(Path.Combine(_root, "alpha", id)), "the run's files are beta's, not alpha's");

        // Preflight for a distributed run on all three: same agent, libtorch, shim, plugins; the same model and data
        // (one machine: the same files); each reaches the port alpha opens for the check. Then a missing data file
        // is named for every member.
        var model = Path.Combine(_root, "beta", "builtin-models", "qwen3-tiny-seed0");
        var data = Path.Combine(_root, "rows.jsonl");
        await File.WriteAllTextAsync(data, "{\"instruction\": \"a\", \"output\": \"b\"}\n");
        var preflight = JsonNode.Parse(await (await alpha.Http.PostAsync("api/v1/cluster/preflight", new StringContent(
            new JsonObject { ["model"] = model, ["datasets"] = new JsonArray(data) }.ToJsonString(), Encoding.UTF8, "application/json"))).Content.ReadAsStringAsync())!;
        Assert.True((bool)preflight["ok"]!, preflight.ToJsonString());
        Assert.Equal(3, preflight["members"]!.AsObject().Count);
        Assert.All(preflight["members"]!.AsObject(), m => Assert.Equal(64, ((string)m.Value!["model_hash"]!).Length));
        var missing = JsonNode.Parse(await (await alpha.Http.PostAsync("api/v1/cluster/preflight", new StringContent(
            new JsonObject { ["datasets"] = new JsonArray(data + ".missing") }.ToJsonString(), Encoding.UTF8, "application/json"))).Content.ReadAsStringAsync())!;
        Assert.False((bool)missing["ok"]!);
        Assert.Equal(3, missing["problems"]!.AsArray().Count(p => ((string)p!).Contains(".missing unreadable", StringComparison.Ordinal)));

        // SIGKILL gamma: no leave message; alpha and beta find out through their failure detectors.
        gamma.Kill();
        var killed = Stopwatch.StartNew();
        var unreachable = TimeSpan.Zero;
        await WaitFor(alpha, m =>
        {
            if (State(m, "gamma") == "unreachable" && unreachable == TimeSpan.Zero)
                unreachable = killed.Elapsed;
            return State(m, "gamma") is "down" or "removed";
        }, "gamma down at alpha", 2 * s_documentedDown);
        var down = killed.Elapsed;
        await WaitFor(beta, m => State(m, "gamma") is "down" or "removed", "gamma down at beta", 2 * s_documentedDown);
        output.WriteLine($"gamma killed: unreachable at alpha after {unreachable.TotalMilliseconds:F0} ms, down after {down.TotalMilliseconds:F0} ms (documented ≈ {s_documentedDown.TotalMilliseconds:F0} ms)");
        Assert.Equal("up", State(await Members(alpha), "beta"));

        // SIGTERM beta: it tells the others it leaves, so alpha removes it without waiting for its detector.
        var stopped = Stopwatch.StartNew();
        Assert.Equal(0, beta.Terminate(TimeSpan.FromMinutes(1)));
        var members2 = await Members(alpha);
        Assert.Equal("removed", State(members2, "beta"));
        output.WriteLine($"beta stopped: removed at alpha when its agent exited ({stopped.ElapsedMilliseconds} ms)");
    }

    /// <summary>Every event of a run from an agent's stream, collected in the background until its outcome.</summary>
    private static (System.Collections.Concurrent.ConcurrentQueue<JsonObject> Events, Task Done) Follow(AgentProcess agent, string id)
    {
        var events = new System.Collections.Concurrent.ConcurrentQueue<JsonObject>();
        var done = Task.Run(async () =>
        {
            using var stream = await agent.Http.GetStreamAsync($"api/v1/runs/{id}/events");
            using var reader = new StreamReader(stream);
            while (await reader.ReadLineAsync() is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal))
                    continue;
                var e = JsonNode.Parse(line[6..])!.AsObject();
                events.Enqueue(e);
                if ((string?)e["event"] == "outcome")
                    return;
            }
        });
        return (events, done);
    }

    [Fact]
    public async Task ADataParallelRunOverThreeAgents_LosesAWorkerAndItsAgent_AndResumesFromItsCheckpointOnTheTwoLeft()
    {
        var alpha = Start("alpha", seed: null);
        var seed = $"{alpha.Url.Host}:{alpha.Url.Port}";
        var beta = Start("beta", seed);
        var gamma = Start("gamma", seed);
        await WaitFor(alpha, m => State(m, "beta") == "up" && State(m, "gamma") == "up", "beta and gamma up");

        const int steps = 16;
        var body = new JsonObject
        {
            ["data_parallel"] = new JsonArray("beta", "gamma"),
            ["method"] = "full",
            ["training"] = new JsonObject { ["max_steps"] = steps, ["save_steps"] = 2, ["per_device_train_batch_size"] = 3, ["cutoff_len"] = 64 },
            ["evaluation"] = new JsonObject { ["enabled"] = false },
        }.ToJsonString();
        using var submitted = await alpha.Http.PostAsync("api/v1/runs", new StringContent(body, Encoding.UTF8, "application/json"));
        var answer = JsonNode.Parse(await submitted.Content.ReadAsStringAsync())!;
        Assert.True(submitted.StatusCode == HttpStatusCode.Accepted, answer.ToJsonString());
        var id = (string)answer["run_id"]!;
        var (events, done) = Follow(alpha, id);

        // Once the three replicas have taken a few steps (and rank 0 has checkpoints), gamma's worker and agent die.
        var clock = Stopwatch.StartNew();
        while (!events.Any(e => (string?)e["event"] == "step" && (int)e["step"]! >= 5) && clock.Elapsed < TimeSpan.FromMinutes(3))
            await Task.Delay(100);
        var worker = events.First(e => (string?)e["event"] == "worker" && (string?)e["member"] == "gamma");
        using (var process = Process.GetProcessById((int)worker["pid"]!))
            process.Kill();
        gamma.Kill();

        await done.WaitAsync(TimeSpan.FromMinutes(4));
        var all = events.ToList();
        var outcome = all[^1];
        Assert.Equal("completed", (string?)outcome["status"]);
        var paused = Assert.Single(all, e => (string?)e["event"] == "paused");
        var resumeFrom = (string)paused["resume_from"]!;
        Assert.Matches(@"checkpoint-(4|6|8|10|12|14)$", resumeFrom);
        var sessions = all.Where(e => (string?)e["event"] == "session").ToList();
        Assert.Equal(2, sessions.Count);
        Assert.Equal(3, (int)sessions[0]["world_size"]!);
        Assert.Equal(2, (int)sessions[1]["world_size"]!); // alpha and beta: gamma was down
        Assert.Equal(resumeFrom, (string?)sessions[1]["resume"]);
        // The history of the submitting agent holds every step once, and the last replicas agreed exactly.
        var run = JsonNode.Parse(await alpha.Http.GetStringAsync($"api/v1/runs/{id}"))!;
        Assert.Equal("completed", (string?)run["status"]);
        Assert.Equal(Enumerable.Range(1, steps), run["metrics"]!.AsArray().Where(m => (string?)m!["kind"] == "train").Select(m => (int)m!["step"]!));
        Assert.Contains(all, e => ((string?)e["text"])?.Contains("replicas equal rank 0's exactly", StringComparison.Ordinal) == true);
        output.WriteLine($"paused: {paused["reason"]}; resumed from {resumeFrom} on {sessions[1]["members"]!.ToJsonString()}");
    }

    [Fact]
    public async Task AMemberThatLeaves_HandsARunPlacedThereBackToItsSubmitter_WhichFinishesItFromTheCheckpoint()
    {
        var alpha = Start("alpha", seed: null);
        var beta = Start("beta", $"{alpha.Url.Host}:{alpha.Url.Port}");
        await WaitFor(alpha, m => State(m, "beta") == "up", "beta up");

        const int steps = 30;
        var body = new JsonObject
        {
            ["member"] = "beta",
            ["method"] = "full",
            ["training"] = new JsonObject { ["max_steps"] = steps, ["save_steps"] = 2 },
            ["evaluation"] = new JsonObject { ["enabled"] = false },
        }.ToJsonString();
        using var placed = await alpha.Http.PostAsync("api/v1/runs", new StringContent(body, Encoding.UTF8, "application/json"));
        var id = (string)JsonNode.Parse(await placed.Content.ReadAsStringAsync())!["run_id"]!;
        await beta.WaitFor(id, r => AgentProcess.LastStep(r) >= 5);

        // beta stops: its run checkpoints, goes back to alpha, and beta will not resume it itself.
        Assert.Equal(0, beta.Terminate(TimeSpan.FromMinutes(2)));
        Assert.Contains($"run {id} handed back to {alpha.Url}", beta.Output);
        var onBeta = new Core.Training.RunStore(Path.Combine(_root, "beta")).Get(id);
        Assert.Equal(Core.Training.RunStatus.Cancelled, onBeta.Status);

        // alpha finishes it from beta's checkpoint (one machine: beta's output folder is readable here).
        var done = await alpha.WaitFor(id, r => (string?)r["status"] is "completed" or "failed");
        Assert.Equal("completed", (string?)done["status"]);
        Assert.Equal(Enumerable.Range(1, steps), done["metrics"]!.AsArray().Where(m => (string?)m!["kind"] == "train").Select(m => (int)m!["step"]!));
        // From beta's checkpoint, not from the start: alpha's stream says where it resumed, and alpha trained only the rest.
        var events = await alpha.Http.GetStringAsync($"api/v1/runs/{id}/events");
        Assert.Matches($@"resuming from {System.Text.RegularExpressions.Regex.Escape(onBeta.OutputDirectory)}/checkpoint-([4-9]|[1-2][0-9])\b", events);
        var alphaSteps = new Core.Training.RunStore(Path.Combine(_root, "alpha")).Metrics(id).Count(m => (string?)m["event"] == "step");
        Assert.InRange(alphaSteps, 1, steps - 4);
    }

    [Fact]
    public async Task AgentToAgentCalls_NeedTheClusterToken()
    {
        var alpha = Start("alpha", seed: null);
        var body = new StringContent("""{"member": {"id": "x@http://127.0.0.1:1/#1", "name": "x", "url": "http://127.0.0.1:1/"}, "members": []}""", Encoding.UTF8, "application/json");
        using (var none = await alpha.Http.PostAsync("api/v1/cluster/heartbeat", body))
            Assert.Equal(HttpStatusCode.Forbidden, none.StatusCode);
        using var wrong = new HttpRequestMessage(HttpMethod.Post, "api/v1/cluster/heartbeat") { Content = body };
        wrong.Headers.Add("X-Fta-Cluster-Token", "not-the-token-at-all");
        using (var answer = await alpha.Http.SendAsync(wrong))
            Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
        using var right = new HttpRequestMessage(HttpMethod.Post, "api/v1/cluster/heartbeat")
        {
            Content = new StringContent("""{"member": {"id": "x@http://127.0.0.1:1/#1", "name": "x", "url": "http://127.0.0.1:1/"}, "members": []}""", Encoding.UTF8, "application/json"),
        };
        right.Headers.Add("X-Fta-Cluster-Token", Token);
        using (var answer = await alpha.Http.SendAsync(right))
        {
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal("alpha", (string?)JsonNode.Parse(await answer.Content.ReadAsStringAsync())!["member"]!["name"]);
        }
        // The member it announced (x, which never answers) is listed, then given up on.
        Assert.Contains("x", (await Members(alpha)).Keys);
    }
}
