using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using FineTuneAgent.Actors;
using FineTuneAgent.Agent.Daemon;
using FineTuneAgent.Agent.Jobs;
using FineTuneAgent.Core.Training;
using Xunit.Abstractions;

namespace FineTuneAgent.Agent.Tests;

/// <summary>
/// The agent's HTTP API as a remote client meets it: a daemon started in-process on a free loopback port, spoken to
/// over real HTTP only. What the agent says about itself; the bearer token on every kind of endpoint; malformed,
/// oversized and path-like requests refused with the right status and a message naming what is wrong (and nothing
/// touched); real runs of the built-in tiny Qwen3 through submit, event stream, queue, cancel, resume and delete;
/// and a bounded load test of event streams and polls against one training run. The runs train, so the class runs
/// alone (libtorch's one global generator, and the machine's two cores).
/// </summary>
[Collection(TrainingCollection.Name)]
public sealed class AgentApiTests(ITestOutputHelper output)
{
    private static readonly string[] s_pluginNames = ["lora", "qlora", "dora", "freeze", "full", "qwen3", "llama"];

    // ---------------------------------------------------------------- what the agent says about itself

    [Fact]
    public async Task Node_NamesThisAgent_InThisProcess_WithItsHardwareAndAnEmptyQueue()
    {
        await using var agent = await AgentApiHarness.StartAsync();

        var (status, node) = await agent.Get("/api/v1/node");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("api-test-agent", (string?)node["name"]);
        Assert.Equal(Environment.ProcessId, (int)node["pid"]!);
        Assert.Equal(agent.Daemon.Url.ToString(), (string?)node["url"]);
        Assert.Equal(agent.RunsFolder, (string?)node["runs_directory"]);
        Assert.Equal(Environment.ProcessorCount, (int)node["hardware"]!["cpu"]!["logical_cores"]!);
        Assert.True((double)node["uptime_seconds"]! >= 0);
        Assert.Empty(node["queue"]!["waiting"]!.AsArray());
        Assert.Empty(node["queue"]!["running"]!.AsObject());
    }

    [Fact]
    public async Task Hardware_IsAFreshProbeOfThisMachine()
    {
        await using var agent = await AgentApiHarness.StartAsync();

        var (status, hardware) = await agent.Get("/api/v1/hardware");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Environment.ProcessorCount, (int)hardware["cpu"]!["logical_cores"]!);
        var atStart = agent.Daemon.Services.Hardware.ToJson();
        Assert.Equal((string?)atStart["cpu"]!["model"], (string?)hardware["cpu"]!["model"]);
        Assert.Equal((long)atStart["cpu"]!["total_memory_bytes"]!, (long)hardware["cpu"]!["total_memory_bytes"]!);
        Assert.NotNull(hardware["gpus"]);
    }

    [Fact]
    public async Task Plugins_ListEveryMethodAndTemplateLoaded_AndAReloadListsThemAgain()
    {
        await using var agent = await AgentApiHarness.StartAsync();

        foreach (var (response, what) in new[] { (agent.Client.GetAsync("/api/v1/plugins"), "list"), (agent.Client.PostAsync("/api/v1/plugins/reload", null), "reload") })
        {
            var (status, body) = await AgentApiHarness.Read(await response);
            Assert.True(status == HttpStatusCode.OK, $"{what}: {(int)status} {body}");
            Assert.Equal(Path.Combine(AppContext.BaseDirectory, "plugins"), (string?)body["folder"]);
            var plugins = body["plugins"]!.AsArray().Select(p => p!.AsObject()).ToList();
            foreach (var name in s_pluginNames)
            {
                var plugin = Assert.Single(plugins, p => (string?)p["name"] == name);
                Assert.Equal("loaded", (string?)plugin["status"]);
            }
            Assert.All(plugins.Where(p => s_pluginNames[..5].Contains((string?)p["name"])), p => Assert.Equal("method", (string?)p["kind"]));
            Assert.All(plugins.Where(p => s_pluginNames[5..].Contains((string?)p["name"])), p => Assert.Equal("template", (string?)p["kind"]));
        }
    }

    [Fact]
    public async Task AnUnknownEndpoint_IsA404_WithAJsonErrorPointingAtTheApi()
    {
        await using var agent = await AgentApiHarness.StartAsync();

        foreach (var path in new[] { "/", "/api/v1/nodes", "/api/v2/node", "/api/v1/runs/x/y/z" })
        {
            var (status, body) = await agent.Get(path);
            Assert.Equal(HttpStatusCode.NotFound, status);
            Assert.Contains("no such endpoint", (string?)body["error"]);
            Assert.Contains("/api/v1/", (string?)body["error"]);
        }
    }

    // ---------------------------------------------------------------- authentication

    [Fact]
    public async Task WithAToken_EveryKindOfEndpoint_RefusesAMissingOrWrongToken_AndServesTheRightOne()
    {
        await using var agent = await AgentApiHarness.StartAsync(h => h with { AuthToken = AgentApiHarness.Token }, LayCompletedRun);
        using var none = agent.NewClient(null);
        using var wrong = agent.NewClient("not-the-token-0123456789");
        using var basic = agent.NewClient(null);
        basic.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", AgentApiHarness.Token);
        var requests = new (HttpMethod Method, string Path, string? Body)[]
        {
            (HttpMethod.Get, "/api/v1/node", null),
            (HttpMethod.Get, "/api/v1/runs", null),
            (HttpMethod.Get, $"/api/v1/runs/{CompletedRunId}", null),
            (HttpMethod.Post, "/api/v1/plugins/reload", null),
            (HttpMethod.Post, "/api/v1/recommend", """{"params": "0.6B", "free_gb": 24}"""),
            (HttpMethod.Get, $"/api/v1/runs/{CompletedRunId}/events", null),
        };

        foreach (var (method, path, body) in requests)
        {
            foreach (var (client, who) in new[] { (none, "no token"), (wrong, "a wrong token"), (basic, "the token as Basic") })
            {
                using var response = await client.SendAsync(Request(method, path, body));
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} with {who}: {(int)response.StatusCode}");
                Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
                var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!.GetValue<string>();
                Assert.Contains("bearer token", error);
                Assert.DoesNotContain(AgentApiHarness.Token, error);
            }
            using var served = await agent.Client.SendAsync(Request(method, path, body), HttpCompletionOption.ResponseHeadersRead);
            Assert.True(served.StatusCode == HttpStatusCode.OK, $"{method} {path} with the token: {(int)served.StatusCode} {await served.Content.ReadAsStringAsync()}");
        }
        // The event stream with the token is the whole replayed run.
        var events = await agent.Events(CompletedRunId);
        Assert.Equal(["step", "outcome"], events.Select(e => e.Event));
        Assert.Equal("completed", (string?)events[^1].Data["status"]);
        // An unknown endpoint is not told apart from a known one without the token.
        using var unknown = await none.GetAsync("/api/v1/secret");
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
    }

    [Fact]
    public async Task WithoutAToken_OnLoopback_RequestsPass_WhateverAuthorizationTheyCarry()
    {
        await using var agent = await AgentApiHarness.StartAsync();
        using var stranger = agent.NewClient("whatever-token-0123456789");

        Assert.Equal(HttpStatusCode.OK, (await agent.Get("/api/v1/node")).Status);
        Assert.Equal(HttpStatusCode.OK, (await agent.Get("/api/v1/node", stranger)).Status);
        Assert.Equal(HttpStatusCode.OK, (await AgentApiHarness.Read(await agent.Client.PostAsync("/api/v1/plugins/reload", null))).Status);
    }

    [Fact]
    public async Task ListeningOnEveryAddress_WithoutAToken_RefusesToStart_TouchingNothing()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"fta-api-{Guid.NewGuid():N}");
        try
        {
            var settings = AgentApiHarness.Settings(folder, h => h with { BindAddress = "0.0.0.0" });
            Assert.Contains(settings.Http.Validate(), p => p.Key == "bind-address"); // the config binder would refuse it first

            var e = await Assert.ThrowsAsync<InvalidOperationException>(() => AgentDaemon.StartAsync(settings));

            Assert.Contains("0.0.0.0", e.Message);
            Assert.Contains("agent.http.auth-token", e.Message);
            Assert.False(Directory.Exists(folder));
        }
        finally
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task ListeningOnEveryAddress_WithAToken_Starts_AndDemandsTheToken()
    {
        await using var agent = await AgentApiHarness.StartAsync(h => h with { BindAddress = "0.0.0.0", AuthToken = AgentApiHarness.Token });
        using var none = agent.NewClient(null);

        Assert.Equal("0.0.0.0", agent.Daemon.Url.Host);
        Assert.Equal(HttpStatusCode.OK, (await agent.Get("/api/v1/node")).Status); // over loopback, which every address includes
        Assert.Equal(HttpStatusCode.Unauthorized, (await agent.Get("/api/v1/node", none)).Status);
    }

    // ---------------------------------------------------------------- malformed requests

    [Fact]
    public async Task MalformedRunSubmissions_Are400_NamingWhatIsWrong_AndCreateNoRun()
    {
        await using var agent = await AgentApiHarness.StartAsync();
        var data = agent.Dataset();

        async Task<string> Refused(string body)
        {
            var (status, answer) = await AgentApiHarness.Read(await agent.Client.PostAsync("/api/v1/runs", AgentApiHarness.Json(body)));
            Assert.True(status == HttpStatusCode.BadRequest, $"{body}: {(int)status} {answer}");
            return (string)answer["error"]!;
        }

        Assert.Contains("malformed JSON", await Refused("{\"training\": {\"max_steps\": 4,"));
        Assert.Contains("malformed JSON", await Refused("not json at all"));
        Assert.Contains("malformed JSON", await Refused(""));
        Assert.Contains("one JSON object", await Refused("[{\"method\": \"lora\"}]"));
        Assert.Contains("one JSON object", await Refused("\"lora\""));
        var typo = await Refused("{\"trainig\": {\"max_steps\": 4}}");
        Assert.Contains("\"trainig\"", typo);
        Assert.Contains("did you mean 'training'", typo);
        var inner = await Refused("{\"training\": {\"max_step\": 4}}");
        Assert.Contains("max_step", inner);
        Assert.Contains("max_steps", inner); // the did-you-mean
        Assert.Contains("per_device_train_batch_size", await Refused("{\"training\": {\"per_device_train_batch_size\": \"two\"}}"));
        Assert.Contains("per_device_train_batch_size", await Refused("{\"training\": {\"per_device_train_batch_size\": 0}}"));
        var model = Path.Combine(agent.Folder, "no-such-model");
        var missing = await Refused($"{{\"model\": {JsonValue.Create(model).ToJsonString()}, \"datasets\": [{JsonValue.Create(data).ToJsonString()}]}}");
        Assert.Contains(model, missing);
        Assert.Contains("config.json", missing);
        var absent = Path.Combine(agent.Folder, "absent.jsonl");
        Assert.Contains(absent, await Refused($"{{\"datasets\": [{JsonValue.Create(absent).ToJsonString()}]}}"));
        Assert.Contains("lorra", await Refused("{\"method\": \"lorra\"}"));
        Assert.Contains("run_id", await Refused("{\"run_id\": \"../escape\"}"));
        Assert.Contains("run_id", await Refused("{\"run_id\": \"..\"}"));

        // Nothing refused left a run behind: no run folder, nothing in the history.
        Assert.Empty(Directory.GetDirectories(agent.RunsFolder));
        Assert.Empty((await agent.Get("/api/v1/runs")).Body["runs"]!.AsArray());
        Assert.False(Directory.Exists(Path.Combine(agent.Folder, "escape")));
    }

    [Fact]
    public async Task ABodyBeyondTheLimit_Is413_WithOrWithoutAContentLength_AndOneWithinItIsRead()
    {
        await using var agent = await AgentApiHarness.StartAsync(h => h with { MaxRequestBodySize = 1024 });
        string Body(int size)
        {
            var head = "{\"method_note\": \"";
            return head + new string('x', size - head.Length - 2) + "\"}";
        }

        var (status, answer) = await AgentApiHarness.Read(await agent.Client.PostAsync("/api/v1/runs", AgentApiHarness.Json(Body(4096))));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.False(string.IsNullOrEmpty((string?)answer["error"]));

        // Chunked: the agent cannot know the size in advance and must stop reading at the limit.
        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(Body(64 * 1024))));
        chunked.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/recommend") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        (status, answer) = await AgentApiHarness.Read(await agent.Client.SendAsync(request));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);

        // Just within the limit the body is read, and judged on what it says.
        (status, answer) = await AgentApiHarness.Read(await agent.Client.PostAsync("/api/v1/runs", AgentApiHarness.Json(Body(1000).Replace("method_note", "methd_note", StringComparison.Ordinal))));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("did you mean 'method_note'", (string?)answer["error"]);
        Assert.Equal(HttpStatusCode.OK, (await agent.Get("/api/v1/node")).Status); // the agent goes on
    }

    [Fact]
    public async Task ABodyThatIsNotJson_ByContentType_Is415()
    {
        await using var agent = await AgentApiHarness.StartAsync();

        foreach (var path in new[] { "/api/v1/runs", "/api/v1/recommend" })
        {
            var (status, answer) = await AgentApiHarness.Read(await agent.Client.PostAsync(path, new StringContent("{}", Encoding.UTF8, "text/plain")));
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
            Assert.Contains("application/json", (string?)answer["error"]);
            Assert.Contains("text/plain", (string?)answer["error"]);
        }
        Assert.Empty(Directory.GetDirectories(agent.RunsFolder));
    }

    [Fact]
    public async Task BadRunListFilters_Are400_NamingTheParameter()
    {
        await using var agent = await AgentApiHarness.StartAsync();

        foreach (var (query, named) in new[] { ("status=bogus", "status=bogus"), ("status=1", "status=1"), ("status=completedd", "status=completedd"),
                     ("limit=0", "limit=0"), ("limit=-3", "limit=-3"), ("limit=ten", "limit=ten") })
        {
            var (status, answer) = await agent.Get($"/api/v1/runs?{query}");
            Assert.True(status == HttpStatusCode.BadRequest, $"{query}: {(int)status} {answer}");
            Assert.Contains(named, (string?)answer["error"]);
        }
        Assert.Contains("completed", (string?)(await agent.Get("/api/v1/runs?status=bogus")).Body["error"]); // lists the statuses
        var (ok, list) = await agent.Get("/api/v1/runs?status=Completed&limit=5&method=lora&search=x");
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Empty(list["runs"]!.AsArray());
    }

    [Fact]
    public async Task AnUnknownRunId_Is404_OnEveryRunEndpoint()
    {
        await using var agent = await AgentApiHarness.StartAsync();

        foreach (var (method, path) in new[] { (HttpMethod.Get, ""), (HttpMethod.Get, "/events"), (HttpMethod.Post, "/cancel"), (HttpMethod.Post, "/resume"), (HttpMethod.Delete, "") })
        {
            var (status, answer) = await AgentApiHarness.Read(await agent.Client.SendAsync(new HttpRequestMessage(method, $"/api/v1/runs/no-such-run{path}")));
            Assert.True(status == HttpStatusCode.NotFound, $"{method} {path}: {(int)status} {answer}");
            Assert.Contains("no-such-run", (string?)answer["error"]);
        }
    }

    /// <summary>
    /// Run ids name folders under the runs folder, so one that climbs out of it (sent raw, as a hostile client would,
    /// not tidied by a URI class) must be refused or not found on every run endpoint, and never read, changed or
    /// deleted what lies outside: here a run.json beside the runs folder and a whole run folder next to it.
    /// </summary>
    [Fact]
    public async Task PathLikeRunIds_AreRefusedOrNotFound_OnEveryRunEndpoint_WithoutTouchingFilesOutside()
    {
        await using var agent = await AgentApiHarness.StartAsync();
        var outside = new RunStore(agent.Folder);
        outside.Create("victim", new TrainRequest { RunId = "victim", OutputDirectory = Path.Combine(agent.Folder, "victim", "output") }.ToJson(),
            Path.Combine(agent.Folder, "victim", "output"), RunStatus.Completed);
        var beside = Path.Combine(agent.Folder, RunStore.RecordFileName);
        File.Copy(Path.Combine(agent.Folder, "victim", RunStore.RecordFileName), beside);
        var before = Snapshot(agent.Folder);
        var ids = new[] { "..", "%2E%2E", ".%2E", "..%2Fvictim", "%2E%2E%2Fvictim", "..%2F..%2Fvictim", "x%2F..%2F..%2Fvictim", "..%5Cvictim", "~", "%00", "victim%00" };
        var endpoints = new[] { ("GET", ""), ("GET", "/events"), ("POST", "/cancel"), ("POST", "/resume"), ("DELETE", "") };

        foreach (var id in ids)
        {
            foreach (var (method, suffix) in endpoints)
            {
                var (status, body) = await Raw(agent.BaseUrl, method, $"/api/v1/runs/{id}{suffix}");
                Assert.True(status is 400 or 404, $"{method} /api/v1/runs/{id}{suffix}: {status} {body}");
            }
        }

        Assert.Equal(before, Snapshot(agent.Folder));
        Assert.Empty(Directory.GetDirectories(agent.RunsFolder));
        Assert.Empty((await agent.Get("/api/v1/runs")).Body["runs"]!.AsArray());
    }

    [Fact]
    public async Task Recommend_WithNeitherOrBothOfModelAndParams_Is400_AndATypoIsNamed()
    {
        await using var agent = await AgentApiHarness.StartAsync();

        async Task<string> Refused(string body)
        {
            var (status, answer) = await AgentApiHarness.Read(await agent.Post("/api/v1/recommend", JsonNode.Parse(body)!));
            Assert.True(status == HttpStatusCode.BadRequest, $"{body}: {(int)status} {answer}");
            return (string)answer["error"]!;
        }

        Assert.Contains("exactly one of \"model\"", await Refused("{}"));
        Assert.Contains("exactly one of \"model\"", await Refused("{\"arch\": \"llama\", \"profile\": \"rtx-3060-12gb\"}"));
        Assert.Contains("exactly one of \"model\"", await Refused($"{{\"model\": {JsonValue.Create(agent.Folder).ToJsonString()}, \"params\": \"7B\"}}"));
        Assert.Contains("did you mean 'params'", await Refused("{\"parms\": \"7B\"}"));
        Assert.Contains("did you mean 'rtx-3060-12gb'", await Refused("{\"params\": \"7B\", \"arch\": \"llama\", \"profile\": \"rtx-3060-12g\"}"));
        Assert.Contains("not both", await Refused("{\"params\": \"7B\", \"arch\": \"llama\", \"profile\": \"rtx-3060-12gb\", \"free_gb\": 12}"));
        Assert.Contains("free_gb", await Refused("{\"params\": \"7B\", \"arch\": \"llama\", \"free_gb\": 0}"));
        Assert.Contains("config.json", await Refused($"{{\"model\": {JsonValue.Create(Path.Combine(agent.Folder, "nothing")).ToJsonString()}}}"));
    }

    /// <summary>
    /// The reference case over the API: a 7B Llama on a 12 GB RTX 3060. The issue's example expected QLoRA-4; the
    /// numbers say QLoRA-8 fits (LLaMA-Factory's own table gives 7B QLoRA-8 10 GB, under the card's 12 GB; ours:
    /// 9.06 GB of 9.79 GB usable after CUDA's 1.4 GiB and 10 % headroom, with checkpointing), and QLoRA-8 ranks above
    /// QLoRA-4 in quality, so it is chosen and QLoRA-4 is offered beside it; 16-bit LoRA does not fit.
    /// </summary>
    [Fact]
    public async Task Recommend_7BLlamaOnAnRtx3060_12GB_ChoosesQLora8_WithQLora4AsAnAlternative_AndSaysTheNumbers()
    {
        await using var agent = await AgentApiHarness.StartAsync();

        var (status, answer) = await AgentApiHarness.Read(await agent.Post("/api/v1/recommend",
            JsonNode.Parse("""{"params": "7B", "arch": "llama", "profile": "rtx-3060-12gb"}""")!));

        Assert.True(status == HttpStatusCode.OK, $"{(int)status} {answer}");
        output.WriteLine(answer.ToJsonString());
        var chosen = answer["chosen"]!;
        Assert.Equal("QLoRA-8", (string?)chosen["label"]);
        Assert.Equal("qlora", (string?)chosen["method"]);
        Assert.True((bool)chosen["fits"]!);
        var (need, usable) = ((long)chosen["estimate_bytes"]!, (long)answer["usable_bytes"]!);
        Assert.True(need <= usable);
        Assert.Contains(answer["alternatives"]!.AsArray(), p => (string?)p!["label"] == "QLoRA-4");
        Assert.Contains(answer["does_not_fit"]!.AsArray(), p => (string?)p!["label"] == "LoRA");
        // The reason carries the two numbers it rests on, in GB with one decimal.
        static string Gb(long bytes) => (bytes / 1e9).ToString("F1", System.Globalization.CultureInfo.InvariantCulture) + " GB";
        Assert.Contains(answer["reasons"]!.AsArray(), r =>
            ((string)r!).StartsWith($"QLoRA-8 is the best-quality method that fits: {Gb(need)} of {Gb(usable)} usable", StringComparison.Ordinal));
    }

    // ---------------------------------------------------------------- runs

    [Fact]
    public async Task ARunThroughTheApi_StreamsEveryEventOnce_InOrder_AndLateOrReconnectingClientsGetTheSameEvents()
    {
        await using var agent = await AgentApiHarness.StartAsync();

        var submitted = await agent.Submit(agent.Run(steps: 4, saveSteps: 2));
        var id = (string)submitted["run_id"]!;
        Assert.Equal("running", (string?)submitted["status"]);
        Assert.Null(submitted["position"]);
        Assert.Equal($"/api/v1/runs/{id}/events", (string?)submitted["events"]);
        var events = await agent.Events(id);

        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Id));
        Assert.Equal(["queued", "started"], events.Take(2).Select(e => e.Event));
        Assert.Equal([1, 2, 3, 4], events.Where(e => e.Event == "step").Select(e => (int)e.Data["step"]!));
        Assert.All(events.Where(e => e.Event == "step"), e => Assert.Equal(4, (int)e.Data["total_steps"]!));
        Assert.Contains(events, e => e.Event == "checkpoint" && (int)e.Data["step"]! == 2);
        Assert.All(events, e => Assert.Equal(e.Event, (string?)e.Data["event"]));
        var outcome = Assert.Single(events, e => e.Event == "outcome");
        Assert.Same(events[^1], outcome);
        Assert.Equal("completed", (string?)outcome.Data["status"]);
        Assert.Equal(id, (string?)outcome.Data["run_id"]);

        // The run as recorded, read right after the outcome, as a client following the run would.
        var (status, run) = await agent.Get($"/api/v1/runs/{id}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("completed", (string?)run["status"]);
        Assert.Equal("completed", (string?)run["live"]!["status"]);
        Assert.Equal("lora", (string?)run["method"]);
        Assert.Equal([1, 2, 3, 4], run["metrics"]!.AsArray().Where(m => (string?)m!["kind"] == "train").Select(m => (int)m!["step"]!));
        Assert.False(string.IsNullOrEmpty((string?)run["model_hash"]));
        Assert.False(string.IsNullOrEmpty((string?)run["dataset_hash"]));
        Assert.Equal(4, (int)run["stats"]!["steps"]!);
        Assert.Equal(4, (int)run["config"]!["training"]!["max_steps"]!);
        var (_, list) = await agent.Get("/api/v1/runs");
        var listed = Assert.Single(list["runs"]!.AsArray());
        Assert.Equal(id, (string?)listed!["id"]);
        Assert.Equal("completed", (string?)listed["status"]);
        Assert.Empty(list["queue"]!["running"]!.AsObject());
        Assert.Single((await agent.Get("/api/v1/runs?status=completed")).Body["runs"]!.AsArray());
        Assert.Empty((await agent.Get("/api/v1/runs?status=failed")).Body["runs"]!.AsArray());

        // A client connecting after the end gets exactly the same stream; one reconnecting with Last-Event-ID: k
        // gets exactly what followed k.
        AssertSame(events, await agent.Events(id));
        foreach (var k in new[] { 0, 1, 2, events.Count / 2, events.Count - 1, events.Count })
            AssertSame(events.Skip(k).ToList(), await agent.Events(id, lastEventId: k));
        using var bad = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/runs/{id}/events");
        bad.Headers.Add("Last-Event-ID", "seven");
        var (badStatus, badBody) = await AgentApiHarness.Read(await agent.Client.SendAsync(bad));
        Assert.Equal(HttpStatusCode.BadRequest, badStatus);
        Assert.Contains("Last-Event-ID", (string?)badBody["error"]);
    }

    [Fact]
    public async Task ASecondRun_WaitsInTheQueue_CancellingItThereEndsItsStream_AndOnlyEndedRunsCanBeDeleted()
    {
        await using var agent = await AgentApiHarness.StartAsync();

        var first = await agent.Submit(agent.Run());
        var second = await agent.Submit(agent.Run());
        var (firstId, secondId) = ((string)first["run_id"]!, (string)second["run_id"]!);

        Assert.Equal("running", (string?)first["status"]);
        Assert.Equal("queued", (string?)second["status"]);
        Assert.Equal(1, (int)second["position"]!);
        var (_, waiting) = await agent.Get($"/api/v1/runs/{secondId}");
        Assert.Equal("queued", (string?)waiting["live"]!["status"]);
        Assert.Equal(1, (int)waiting["live"]!["queue_position"]!);
        var (_, list) = await agent.Get("/api/v1/runs");
        Assert.Equal([secondId], list["queue"]!["waiting"]!.AsArray().Select(w => (string)w!));
        Assert.Equal([firstId], list["queue"]!["running"]!.AsObject().Select(r => r.Key));
        foreach (var id in new[] { firstId, secondId })
        {
            var (status, refused) = await AgentApiHarness.Read(await agent.Client.DeleteAsync($"/api/v1/runs/{id}"));
            Assert.Equal(HttpStatusCode.Conflict, status);
            Assert.Contains("cancel it first", (string?)refused["error"]);
        }

        var (cancelStatus, cancelled) = await AgentApiHarness.Read(await agent.Client.PostAsync($"/api/v1/runs/{secondId}/cancel", null));
        Assert.Equal(HttpStatusCode.Accepted, cancelStatus);
        Assert.Equal("queued", (string?)cancelled["was"]);
        Assert.Equal(secondId, (string?)cancelled["run_id"]);
        var secondEvents = await agent.Events(secondId);
        Assert.Equal(["queued", "outcome"], secondEvents.Select(e => e.Event));
        Assert.Equal([1L, 2L], secondEvents.Select(e => e.Id));
        Assert.Equal("cancelled", (string?)secondEvents[^1].Data["status"]);
        var (_, secondRun) = await agent.Get($"/api/v1/runs/{secondId}");
        Assert.Equal("cancelled", (string?)secondRun["live"]!["status"]);
        Assert.Equal("cancelled", (string?)secondRun["status"]);

        var firstEvents = await agent.Events(firstId);
        Assert.Equal("completed", (string?)firstEvents[^1].Data["status"]);
        Assert.Equal([1, 2, 3, 4], firstEvents.Where(e => e.Event == "step").Select(e => (int)e.Data["step"]!));
        var (again, _) = await AgentApiHarness.Read(await agent.Client.PostAsync($"/api/v1/runs/{firstId}/cancel", null));
        Assert.Equal(HttpStatusCode.Conflict, again); // it ended: nothing to cancel

        var (deleteStatus, deleted) = await AgentApiHarness.Read(await agent.Client.DeleteAsync($"/api/v1/runs/{firstId}"));
        Assert.Equal(HttpStatusCode.OK, deleteStatus);
        Assert.Equal(firstId, (string?)deleted["deleted"]);
        Assert.True(Directory.Exists((string)deleted["files_kept"]!));
        var (_, after) = await agent.Get("/api/v1/runs");
        Assert.Equal([secondId], after["runs"]!.AsArray().Select(r => (string)r!["id"]!));
    }

    [Fact]
    public async Task CancellingARunningRun_StopsItWithACheckpoint_AndAResumeStreamsTheRestToCompletion()
    {
        await using var agent = await AgentApiHarness.StartAsync();
        const int steps = 12;
        var id = (string)(await agent.Submit(agent.Run(steps, saveSteps: 1000)))["run_id"]!;
        var firstStep = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var streaming = agent.Events(id, seen: e =>
        {
            if (e.Event == "step")
                firstStep.TrySetResult();
        });

        await firstStep.Task.WaitAsync(JobHarness.Patience);
        var (cancelStatus, cancelled) = await AgentApiHarness.Read(await agent.Client.PostAsync($"/api/v1/runs/{id}/cancel", null));
        var events = await streaming;

        Assert.Equal(HttpStatusCode.Accepted, cancelStatus);
        Assert.Equal("running", (string?)cancelled["was"]);
        var outcome = events[^1];
        Assert.Equal("outcome", outcome.Event);
        Assert.Equal("cancelled", (string?)outcome.Data["status"]);
        var checkpoint = (string?)outcome.Data["checkpoint"];
        Assert.False(string.IsNullOrEmpty(checkpoint));
        Assert.True(Directory.Exists(checkpoint), checkpoint);
        var stepsBefore = events.Where(e => e.Event == "step").Select(e => (int)e.Data["step"]!).ToList();
        Assert.InRange(stepsBefore.Count, 1, steps - 1);
        Assert.Equal(Enumerable.Range(1, stepsBefore.Count), stepsBefore);
        var (_, run) = await agent.Get($"/api/v1/runs/{id}");
        Assert.Equal("cancelled", (string?)run["status"]);
        Assert.Equal("cancelled", (string?)run["live"]!["status"]);

        // Resumed, the run goes on from its checkpoint; its event stream carries the new events to a new outcome,
        // numbered after the old ones so a client reconnecting with its last id misses none of them.
        var (resumeStatus, resumed) = await AgentApiHarness.Read(await agent.Client.PostAsync($"/api/v1/runs/{id}/resume", null));
        Assert.True(resumeStatus == HttpStatusCode.Accepted, $"{(int)resumeStatus} {resumed}");
        Assert.Equal("running", (string?)resumed["status"]);
        var rest = await agent.Events(id, lastEventId: events[^1].Id);
        Assert.NotEmpty(rest);
        Assert.Equal(Enumerable.Range(0, rest.Count).Select(i => events[^1].Id + 1 + i), rest.Select(e => e.Id));
        Assert.Equal("queued", rest[0].Event);
        Assert.Equal("completed", (string?)rest[^1].Data["status"]);
        var restSteps = rest.Where(e => e.Event == "step").Select(e => (int)e.Data["step"]!).ToList();
        Assert.Equal(steps, restSteps[^1]);
        Assert.True(restSteps[0] > 1, $"the resume started again from step {restSteps[0]}");
        AssertSame(rest, await agent.Events(id)); // a new client sees the latest attempt
        run = await agent.WaitForRun(id, r => (string?)r["status"] == "completed");
        Assert.Equal(Enumerable.Range(1, steps), run["metrics"]!.AsArray().Where(m => (string?)m!["kind"] == "train").Select(m => (int)m!["step"]!));
    }

    /// <summary>
    /// The root cause of polls of a run that just ended failing with a 500 after 30 s (seen once in the load test):
    /// the root forwarded status queries to the run's supervisor, which stops itself right after its outcome, so a
    /// query arriving in between was lost. Asked straight at the root, many times a millisecond across a few run
    /// ends (the old code lost about one query per run end this way), every query must be answered.
    /// </summary>
    [Fact]
    public async Task StatusQueries_ArrivingAsARunEnds_AreAllAnswered()
    {
        await using var agent = await AgentApiHarness.StartAsync();
        long asked = 0, lost = 0;

        for (var run = 0; run < 3; run++)
        {
            var id = (string)(await agent.Submit(agent.Run(steps: 2, saveSteps: 1000)))["run_id"]!;
            var stream = agent.Events(id);
            var askers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                while (!stream.IsCompleted)
                {
                    Interlocked.Increment(ref asked);
                    try
                    {
                        await agent.Daemon.Services.Root.Ask<RunStatusReport>(new GetRunStatus(id), TimeSpan.FromSeconds(5));
                    }
                    catch (AskTimeoutException)
                    {
                        Interlocked.Increment(ref lost);
                    }
                }
            })).ToList();
            Assert.Equal("completed", (string?)(await stream)[^1].Data["status"]);
            await Task.WhenAll(askers);
        }

        output.WriteLine($"{asked} status queries, {lost} lost");
        Assert.Equal(0, lost);
    }

    // ---------------------------------------------------------------- load

    /// <summary>
    /// Bounded, loopback only: while one 20-step run trains, 32 clients stream its events and 16 poll it. Every
    /// stream must be the complete sequence, identical across clients; every poll must succeed. The latencies are
    /// written out for the record, not asserted (the machine is shared).
    /// </summary>
    [Fact]
    public async Task UnderLoad_EveryEventStreamIsCompleteAndIdentical_AndEveryPollSucceeds()
    {
        const int streams = 32, pollers = 16, steps = 20, maxPollsEach = 2000;
        await using var agent = await AgentApiHarness.StartAsync();
        var id = (string)(await agent.Submit(agent.Run(steps, saveSteps: 10)))["run_id"]!;
        var clients = Enumerable.Range(0, streams + pollers).Select(_ => agent.NewClient(null)).ToList();
        try
        {
            var clock = Stopwatch.StartNew();
            var readers = clients.Take(streams).Select(c => Task.Run(() => agent.Events(id, client: c))).ToList();
            var streamsDone = Task.WhenAll(readers);
            var latencies = new ConcurrentBag<double>();
            var failures = new ConcurrentQueue<string>();
            var polls = clients.Skip(streams).Select(c => Task.Run(async () =>
            {
                for (var i = 0; i < maxPollsEach && !streamsDone.IsCompleted; i++)
                {
                    var watch = Stopwatch.StartNew();
                    using var response = await c.GetAsync($"/api/v1/runs/{id}");
                    var body = await response.Content.ReadAsStringAsync();
                    latencies.Add(watch.Elapsed.TotalMilliseconds);
                    if (response.StatusCode != HttpStatusCode.OK || JsonNode.Parse(body)?["live"] is null)
                        failures.Enqueue($"{(int)response.StatusCode} {body}");
                    await Task.Delay(10);
                }
            })).ToList();
            var all = await streamsDone.WaitAsync(JobHarness.Patience);
            await Task.WhenAll(polls).WaitAsync(JobHarness.Patience);
            var seconds = clock.Elapsed.TotalSeconds;

            // The figures first, so they are on record whatever the assertions find.
            var sorted = latencies.Order().ToList();
            double Percentile(double p) => sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
            var report = string.Concat(
                string.Create(CultureInfo.InvariantCulture, $"agent load test: one {steps}-step LoRA run of the built-in tiny Qwen3 (batch 2, cutoff 64), {streams} SSE clients, " +
                $"{pollers} clients polling GET /api/v1/runs/{{id}} (10 ms pause between polls), loopback, {Environment.ProcessorCount} cores\n"),
                string.Create(CultureInfo.InvariantCulture, $"run wall time under load: {seconds:F1} s\n"),
                string.Create(CultureInfo.InvariantCulture, $"SSE: {all.Length} clients, events per client: {string.Join(", ", all.Select(a => a.Count).Distinct())}\n"),
                string.Create(CultureInfo.InvariantCulture, $"polls: {sorted.Count} done, {failures.Count} failed; latency p50 {Percentile(0.50):F1} ms, p95 {Percentile(0.95):F1} ms, "),
                string.Create(CultureInfo.InvariantCulture, $"p99 {Percentile(0.99):F1} ms, max {(sorted.Count == 0 ? double.NaN : sorted[^1]):F1} ms\n"),
                string.Concat(failures.Distinct().Take(3).Select(f => $"failure: {f}\n")));
            output.WriteLine(report);
            File.WriteAllText(Path.Combine(AppContext.BaseDirectory, "agent-load.txt"), report);

            var reference = all[0];
            Assert.Equal(Enumerable.Range(1, reference.Count).Select(i => (long)i), reference.Select(e => e.Id));
            Assert.Equal(Enumerable.Range(1, steps), reference.Where(e => e.Event == "step").Select(e => (int)e.Data["step"]!));
            Assert.Equal("completed", (string?)reference[^1].Data["status"]);
            foreach (var stream in all)
                AssertSame(reference, stream);
            Assert.Empty(failures);
            Assert.NotEmpty(latencies);
        }
        finally
        {
            foreach (var c in clients)
                c.Dispose();
        }
    }

    // ---------------------------------------------------------------- helpers

    private const string CompletedRunId = "done-run";

    /// <summary>A completed run left in the runs folder by an earlier agent: one step in its metrics.</summary>
    private static void LayCompletedRun(string runs)
    {
        var store = new RunStore(runs);
        var output = Path.Combine(runs, CompletedRunId, "output");
        store.Create(CompletedRunId, new TrainRequest { RunId = CompletedRunId, OutputDirectory = output }.ToJson(), output, RunStatus.Completed);
        store.AppendMetric(CompletedRunId, new JsonObject { ["event"] = "step", ["step"] = 1, ["total_steps"] = 1, ["loss"] = 2.5 });
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string? body) =>
        new(method, path) { Content = body is null ? null : AgentApiHarness.Json(body) };

    private static void AssertSame(IReadOnlyList<SseEvent> expected, IReadOnlyList<SseEvent> actual)
    {
        Assert.Equal(expected.Select(e => (e.Id, e.Event, e.Data.ToJsonString())), actual.Select(e => (e.Id, e.Event, e.Data.ToJsonString())));
    }

    /// <summary>One request written byte for byte on a socket (no URI class tidies its path): the status and body.</summary>
    private static async Task<(int Status, string Body)> Raw(Uri server, string method, string path)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port);
        await using var stream = tcp.GetStream();
        var length = method == "GET" || method == "DELETE" ? "" : "Content-Length: 0\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"{method} {path} HTTP/1.1\r\nHost: {server.Authority}\r\n{length}Connection: close\r\n\r\n"));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromMinutes(1));
        var status = int.Parse(text.Split(' ', 3)[1], CultureInfo.InvariantCulture);
        return (status, text[(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]);
    }

    /// <summary>Every file under <paramref name="folder"/> outside its runs folder, with its size, time and content.</summary>
    private static List<string> Snapshot(string folder) =>
        Directory.GetFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => !f.StartsWith(Path.Combine(folder, "runs") + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(f => $"{f} {File.GetLastWriteTimeUtc(f):O} {File.ReadAllText(f)}")
            .ToList();
}
