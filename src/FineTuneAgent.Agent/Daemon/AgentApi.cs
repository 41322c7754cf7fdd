using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions;
using FineTuneAgent.Actors;
using FineTuneAgent.Agent.Jobs;
using FineTuneAgent.Core.History;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Recommendation;
using FineTuneAgent.Core.Training;
using FineTuneAgent.Modeling.Config;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FineTuneAgent.Agent.Daemon;

/// <summary>
/// The agent's HTTP API (JSON; errors are <c>{"error": "..."}</c> with a 4xx/5xx status):
/// <list type="bullet">
/// <item><c>GET /api/v1/node</c>: name, version, pid, uptime, hardware, queue.</item>
/// <item><c>GET /api/v1/hardware</c>: the hardware probe's report, taken now.</item>
/// <item><c>GET /api/v1/plugins</c>, <c>POST /api/v1/plugins/reload</c>: the plugins, as `fta plugins --json`.</item>
/// <item><c>GET /api/v1/runs[?status=&amp;method=&amp;search=&amp;limit=]</c>: the history, newest first, with the live queue.</item>
/// <item><c>POST /api/v1/runs</c>: submit a run (a <see cref="TrainRequest"/> as JSON, run_id and output_dir optional) → 202.</item>
/// <item><c>GET /api/v1/runs/{id}</c>: one run with its metrics, evaluations, artefacts and live status.</item>
/// <item><c>POST /api/v1/runs/{id}/cancel</c>, <c>POST /api/v1/runs/{id}/resume</c>, <c>DELETE /api/v1/runs/{id}</c>.</item>
/// <item><c>POST /api/v1/runs/{id}/export</c> <c>{"formats": ["peft"|"merged"|"gguf"|"gguf-adapter"], "dtype", "quant"}</c>: exports
/// a completed run in the background (202); <c>GET /api/v1/runs/{id}</c>'s <c>export</c> says how it went.</item>
/// <item><c>GET /api/v1/runs/{id}/events</c>: the run's events as server-sent events (<c>id</c> = event number, so a
/// client reconnecting with Last-Event-ID misses nothing), ending with an <c>outcome</c> event.</item>
/// <item><c>POST /api/v1/recommend</c>: the recommender for a model (<c>model</c> folder, or <c>params</c> + <c>arch</c>)
/// on this machine (or <c>profile</c>, or <c>free_gb</c>).</item>
/// </list>
/// With an auth token configured every request must carry <c>Authorization: Bearer &lt;token&gt;</c> (401 otherwise).
/// Bodies beyond agent.http.max-request-body-size get 413; malformed ones 400 naming the field. A handler's own
/// failure is a 500 with the message; the agent goes on.
/// </summary>
public static class AgentApi
{
    public const string Prefix = "/api/v1";
    private static readonly TimeSpan s_ask = TimeSpan.FromSeconds(30);
    private static readonly string[] s_runKeys = ["run_id", "model", "built_in_seed", "datasets", "dataset_dir", "method", "method_note", "method_settings",
        "template", "output_dir", "training", "evaluation", "export", "member", "data_parallel", "origin"];

    public static void Map(WebApplication web, AgentServices agent)
    {
        web.Use(async (context, next) =>
        {
            // Peers authenticate with the cluster token (they need not know this agent's API token).
            if (agent.Settings.Http.AuthToken is { } token && !Authorized(context.Request, token) && !ClusterApi.HasClusterToken(context.Request, agent))
            {
                context.Response.Headers.WWWAuthenticate = "Bearer realm=\"fta-agent\"";
                await Error(StatusCodes.Status401Unauthorized, "missing or wrong bearer token (Authorization: Bearer <agent.http.auth-token>)").ExecuteAsync(context);
                return;
            }
            try
            {
                await next(context);
            }
            catch (BadHttpRequestException e)
            {
                if (!context.Response.HasStarted)
                    await Error(e.StatusCode, e.Message).ExecuteAsync(context);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                if (!context.Response.HasStarted)
                    await Error(StatusCodes.Status500InternalServerError, $"{e.GetType().Name}: {e.Message}").ExecuteAsync(context);
            }
        });

        var api = web.MapGroup(Prefix);
        api.MapGet("/node", async () => Results.Json(await Node(agent)));
        api.MapGet("/hardware", () => Results.Json(new Core.Hardware.HardwareProbe().Probe().ToJson()));
        api.MapGet("/plugins", () => Plugins(agent));
        api.MapPost("/plugins/reload", () =>
        {
            agent.Plugins.Refresh();
            return Plugins(agent);
        });
        api.MapGet("/runs", (HttpRequest request) => ListRuns(agent, request));
        api.MapPost("/runs", (HttpRequest request) => SubmitRun(agent, request));
        api.MapGet("/runs/{id}", (string id) => GetRun(agent, id));
        api.MapPost("/runs/{id}/cancel", (string id) => CancelRun(agent, id));
        api.MapPost("/runs/{id}/resume", (string id) => ResumeRun(agent, id));
        api.MapDelete("/runs/{id}", (string id) => DeleteRun(agent, id));
        api.MapPost("/runs/{id}/export", (string id, HttpRequest request) => ExportRun(agent, id, request));
        api.MapGet("/runs/{id}/events", (string id, HttpContext context) => StreamEvents(agent, id, context));
        api.MapPost("/recommend", (HttpRequest request) => Recommend(agent, request));
        ClusterApi.Map(api, agent);
        web.MapFallback(() => Error(StatusCodes.Status404NotFound, $"no such endpoint; the API is under {Prefix}/ (node, hardware, plugins, runs, recommend)"));
    }

    /// <summary>Constant-time comparison, so the token cannot be guessed byte by byte from response times.</summary>
    private static bool Authorized(HttpRequest request, string token)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()), Encoding.UTF8.GetBytes(token));
    }

    public static IResult Error(int status, string message) => Results.Json(new JsonObject { ["error"] = message }, statusCode: status);

    private static async Task<JsonObject> Node(AgentServices agent)
    {
        var queue = await agent.Root.Ask<QueueState>(GetQueue.Instance, s_ask);
        return new JsonObject
        {
            ["name"] = agent.Name,
            ["version"] = typeof(AgentApi).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
                .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion,
            ["pid"] = Environment.ProcessId,
            ["url"] = agent.Url?.ToString(),
            ["started_at"] = agent.StartedAt.ToString("O"),
            ["uptime_seconds"] = Math.Round((DateTimeOffset.UtcNow - agent.StartedAt).TotalSeconds, 1),
            ["runs_directory"] = agent.Job.Store.Folder,
            ["hardware"] = agent.Hardware.ToJson(),
            ["queue"] = QueueJson(queue),
        };
    }

    private static JsonObject QueueJson(QueueState queue) => new()
    {
        ["waiting"] = new JsonArray(queue.Waiting.Select(w => (JsonNode?)w).ToArray()),
        ["running"] = new JsonObject(queue.Running.Select(r => KeyValuePair.Create(r.Key, (JsonNode?)r.Value))),
    };

    private static IResult Plugins(AgentServices agent) =>
        Results.Json(new { folder = agent.Plugins.Folder, plugins = agent.Plugins.Plugins.Select(PluginRow.Of) });

    private static async Task<IResult> ListRuns(AgentServices agent, HttpRequest request)
    {
        RunStatus? status = null;
        if (request.Query["status"].ToString() is { Length: > 0 } s)
        {
            if (!Enum.TryParse<RunStatus>(s, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(s, out _))
                return Error(400, $"status={s}: expected one of {string.Join(", ", Enum.GetNames<RunStatus>().Select(n => n.ToLowerInvariant()))}");
            status = parsed;
        }
        int? limit = null;
        if (request.Query["limit"].ToString() is { Length: > 0 } l)
        {
            if (!int.TryParse(l, out var n) || n < 1)
                return Error(400, $"limit={l}: expected a whole number of at least 1");
            limit = n;
        }
        var method = request.Query["method"].ToString() is { Length: > 0 } m ? m : null;
        var search = request.Query["search"].ToString() is { Length: > 0 } q ? q : null;
        var queue = await agent.Root.Ask<QueueState>(GetQueue.Instance, s_ask);
        using var reader = agent.HistoryStore.OpenReader();
        var runs = reader.ListRuns(new RunFilter(status, method, search, limit));
        return Results.Json(new JsonObject
        {
            ["runs"] = new JsonArray(runs.Select(r => (JsonNode)HistoryJson.Run(r, reader.Stats(r.Id))).ToArray()),
            ["queue"] = QueueJson(queue),
        });
    }

    private static async Task<IResult> SubmitRun(AgentServices agent, HttpRequest request)
    {
        var (body, error) = await ReadObject(request);
        if (error is not null)
            return error;
        foreach (var (key, _) in body!)
        {
            if (!s_runKeys.Contains(key))
                return Error(400, $"unknown field \"{key}\"{Spelling.DidYouMean(key, s_runKeys)}; a run is {string.Join(", ", s_runKeys)}");
        }
        var member = (string?)body["member"];
        body.Remove("member");
        var dataParallel = body["data_parallel"] as JsonArray;
        body.Remove("data_parallel");
        // A run another member placed here names that member, to be handed back if this agent leaves (peers only).
        var origin = ClusterApi.HasClusterToken(request, agent) ? (string?)body["origin"] : null;
        body.Remove("origin");
        var id = body["run_id"] is JsonValue v && v.TryGetValue<string>(out var given) ? given : RunStore.NewId();
        if (!IsRunId(id))
            return Error(400, $"run_id \"{id}\": use letters, digits, '-', '_' and '.' only (it names a folder)");
        body["run_id"] = id;
        if (member is not null && await PlaceElsewhere(agent, member, body) is { } placed)
            return placed;
        body["output_dir"] ??= Path.Combine(agent.Job.Store.RunFolder(id), "output");
        if (body["model"] is null && body["built_in_seed"] is null)
            body["built_in_seed"] = 0;
        TrainRequest train;
        try
        {
            train = TrainRequest.FromJson(body, "request body");
            train.Options.Validate();
            if (train.ModelDirectory is { } dir && !File.Exists(Path.Combine(dir, "config.json")))
                return Error(400, $"model {dir}: no config.json there (a model folder in Hugging Face layout, on the agent's machine)");
            foreach (var d in train.Datasets.Where(d => Path.IsPathRooted(d) && !File.Exists(d)))
                return Error(400, $"datasets: {d} not found on the agent's machine");
            agent.Plugins.Method(train.Method);
        }
        catch (Exception e) when (e is InvalidDataException or TrainingOptionsException or ArgumentException or KeyNotFoundException
                                      or InvalidOperationException or FormatException or JsonException)
        {
            return Error(400, e.Message);
        }
        if (dataParallel is not null)
            return await SubmitDataParallel(agent, train, dataParallel);
        var submitted = await Submit(agent, StartRun.New(train));
        if (origin is not null && agent.Job.Store.Exists(train.RunId))
            agent.Origins[train.RunId] = origin;
        return submitted;
    }

    /// <summary>A data-parallel run over this agent (rank 0) and the members named: coordinated by <see cref="Cluster.DistributedRuns"/>, outside the queue.</summary>
    private static async Task<IResult> SubmitDataParallel(AgentServices agent, TrainRequest train, JsonArray names)
    {
        if (agent.Cluster is not { } cluster || agent.Distributed is not { } distributed)
            return Error(400, "data_parallel: this agent is not in a pool (agent.cluster.cluster-token, and seeds to join others)");
        var wanted = names.Select(n => (string?)n).ToList();
        var members = (await cluster.Ask<Cluster.MembersView>(Cluster.GetMembers.Instance, s_ask)).Members;
        var up = members.Skip(1).Where(m => m.State == Cluster.MemberState.Up).ToList();
        var missing = wanted.Where(n => n is null || up.All(m => m.Name != n)).ToList();
        if (wanted.Count == 0 || missing.Count > 0)
            return Error(400, $"data_parallel: name the other members to train with; not up: {string.Join(", ", missing)} (up: {string.Join(", ", up.Select(m => m.Name))})");
        if (agent.Job.Store.Exists(train.RunId))
            return Error(409, $"run {train.RunId} already exists");
        distributed.Start(train, up.Where(m => wanted.Contains(m.Name)).OrderBy(m => wanted.IndexOf(m.Name)).ToList());
        return Results.Json(new JsonObject
        {
            ["run_id"] = train.RunId,
            ["status"] = "running",
            ["members"] = new JsonArray(wanted.Prepend(agent.Name).Select(n => (JsonNode?)n).ToArray()),
            ["events"] = $"{Prefix}/runs/{train.RunId}/events",
        }, statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>
    /// A run with <c>"member"</c>: "auto" places it where the recommended method is best (<see cref="Placement"/>), a
    /// name on that member. Placed on another member: forwarded there and mirrored here (<see cref="Cluster.RemoteRuns"/>),
    /// answered 202 with the member; placed here: null, and the run is submitted locally.
    /// </summary>
    private static async Task<IResult?> PlaceElsewhere(AgentServices agent, string member, JsonObject body)
    {
        if (agent.Cluster is not { } cluster || agent.RemoteRuns is not { } remote)
            return Error(400, "member: this agent is not in a pool (agent.cluster.cluster-token, and seeds to join others)");
        var members = (await cluster.Ask<Cluster.MembersView>(Cluster.GetMembers.Instance, s_ask)).Members;
        var up = members.Where(m => m.State == Cluster.MemberState.Up).ToList();
        Cluster.ClusterMember? target;
        if (member == "auto")
        {
            ModelConfig config;
            string name;
            try
            {
                (config, name) = (string?)body["model"] is { } dir
                    ? (ModelConfigReader.Load(Path.Combine(dir, "config.json")), Path.GetFileName(dir.TrimEnd('/')))
                    : (ReferenceModels.Config("0.6B", "qwen3"), "the built-in model (placed as the smallest Qwen3)");
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or ModelConfigException)
            {
                return Error(400, $"member auto: {e.Message}");
            }
            var candidates = up.Where(m => m.Hardware is not null).Select(m => PlacementCandidate.FromHardwareJson(m.Id, m.Hardware!, m.Running, m.Queued));
            var seqLen = (int?)body["training"]?["cutoff_len"] ?? 1024;
            var decision = Placement.Choose(new Recommender(agent.Plugins.Method), config, name, candidates, seqLen);
            if (decision.Chosen is null)
                return Error(409, string.Join(" ", decision.Reasons));
            target = up.First(m => m.Id == decision.Chosen.Member);
        }
        else
        {
            target = up.FirstOrDefault(m => m.Name == member);
            if (target is null)
                return Error(400, $"member \"{member}\": no member of that name is up (up: {string.Join(", ", up.Select(m => m.Name))}){Spelling.DidYouMean(member, up.Select(m => m.Name))}");
        }
        if (target.Id == members[0].Id)
            return null; // here
        try
        {
            return Results.Json(await remote.Submit(target, body), statusCode: StatusCodes.Status202Accepted);
        }
        catch (Exception e) when (e is InvalidOperationException or HttpRequestException)
        {
            return Error(StatusCodes.Status502BadGateway, e.Message);
        }
    }

    internal static async Task<IResult> Submit(AgentServices agent, StartRun start)
    {
        try
        {
            var submitted = await agent.Root.Ask<RunSubmitted>(new SubmitRun(start), s_ask);
            return Results.Json(new JsonObject
            {
                ["run_id"] = submitted.RunId,
                ["status"] = submitted.Position is null ? "running" : "queued",
                ["position"] = submitted.Position,
                ["events"] = $"{Prefix}/runs/{submitted.RunId}/events",
            }, statusCode: StatusCodes.Status202Accepted);
        }
        catch (Exception e) when (e is InvalidOperationException)
        {
            return Error(StatusCodes.Status409Conflict, e.Message);
        }
        catch (Exception e) when (e is KeyNotFoundException)
        {
            return Error(StatusCodes.Status404NotFound, e.Message);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or TrainingOptionsException or IOException)
        {
            return Error(StatusCodes.Status400BadRequest, e.Message);
        }
    }

    private static bool IsRunId(string id) =>
        id.Length is > 0 and <= 128 && id != "." && id != ".." && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    private static async Task<IResult> GetRun(AgentServices agent, string id)
    {
        if (!IsRunId(id))
            return Error(400, $"run id \"{id}\" is not a run id");
        var status = await agent.Root.Ask<RunStatusReport>(new GetRunStatus(id), s_ask);
        using var reader = agent.HistoryStore.OpenReader();
        var run = reader.FindRun(id);
        if (run is null && status.Status is null)
            return Error(404, $"no run {id}");
        var json = run is null ? new JsonObject { ["id"] = id } : HistoryJson.Run(run, reader.Stats(id), full: true);
        if (run is not null)
        {
            json["metrics"] = HistoryJson.Array(reader.Metrics(id), HistoryJson.Metric);
            json["evaluations"] = HistoryJson.Array(reader.Evaluations(id), HistoryJson.Evaluation);
            json["artefacts"] = HistoryJson.Array(reader.Artefacts(id), HistoryJson.Artefact);
        }
        json["export"] = agent.Exports.StateOf(id);
        json["live"] = new JsonObject
        {
            ["status"] = status.Status is { } s ? s.ToString().ToLowerInvariant() : null,
            ["last_step"] = status.LastStep,
            ["retries"] = status.Retries,
            ["queue_position"] = status.QueuePosition,
            ["error"] = status.Error,
        };
        return Results.Json(json);
    }

    private static async Task<IResult> CancelRun(AgentServices agent, string id)
    {
        if (agent.RemoteRuns is { } remote && remote.MemberOf(id) is { } member)
            return await remote.Cancel(id)
                ? Results.Json(new JsonObject { ["run_id"] = id, ["forwarded_to"] = member }, statusCode: StatusCodes.Status202Accepted)
                : Error(StatusCodes.Status502BadGateway, $"the member at {member} running {id} did not take the cancel");
        try
        {
            var cancel = await agent.Root.Ask<CancelRequested>(new CancelRun(id), s_ask);
            return Results.Json(new JsonObject { ["run_id"] = id, ["was"] = cancel.Was.ToString().ToLowerInvariant() }, statusCode: StatusCodes.Status202Accepted);
        }
        catch (KeyNotFoundException e)
        {
            return Error(agent.Job.Store.Exists(id) ? StatusCodes.Status409Conflict : StatusCodes.Status404NotFound, e.Message);
        }
    }

    private static Task<IResult> ResumeRun(AgentServices agent, string id) =>
        IsRunId(id) ? Submit(agent, StartRun.Resume(id)) : Task.FromResult(Error(400, $"run id \"{id}\" is not a run id"));

    private static async Task<IResult> ExportRun(AgentServices agent, string id, HttpRequest request)
    {
        if (!IsRunId(id))
            return Error(400, $"run id \"{id}\" is not a run id");
        var (body, error) = await ReadObject(request);
        if (error is not null)
            return error;
        string[] known = ["formats", "dtype", "quant"];
        foreach (var (key, _) in body!)
        {
            if (!known.Contains(key))
                return Error(400, $"unknown field \"{key}\"{Spelling.DidYouMean(key, known)}; expected {string.Join(", ", known)}");
        }
        try
        {
            var formats = (body["formats"] as JsonArray ?? throw new ArgumentException("formats: expected a list such as [\"peft\", \"gguf\"]"))
                .Select(f => Core.Export.ExportChoices.Format((string?)f ?? "", "formats")).ToList();
            if (formats.Count == 0)
                return Error(400, "formats: name at least one of peft, merged, gguf, gguf-adapter");
            var dtype = (string?)body["dtype"] is { } d ? Core.Export.ExportChoices.DType(d, "dtype") : (Torch.torch.ScalarType?)null;
            var quant = Core.Export.ExportChoices.Quant((string?)body["quant"] ?? "f16", "quant");
            agent.Exports.Start(id, formats, dtype, quant);
        }
        catch (KeyNotFoundException e)
        {
            return Error(404, e.Message);
        }
        catch (InvalidOperationException e)
        {
            return Error(409, e.Message);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            return Error(400, e.Message);
        }
        return Results.Json(new JsonObject { ["run_id"] = id, ["status"] = "exporting" }, statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> DeleteRun(AgentServices agent, string id)
    {
        var status = await agent.Root.Ask<RunStatusReport>(new GetRunStatus(id), s_ask);
        if (status.Status is RunStatus.Running or RunStatus.Queued)
            return Error(StatusCodes.Status409Conflict, $"run {id} is {status.Status.ToString()!.ToLowerInvariant()}; cancel it first");
        var deleted = await agent.History.Ask<HistoryProtocol.RunDeleted>(new HistoryProtocol.DeleteRun(id), s_ask);
        if (!deleted.Existed && !agent.Job.Store.Exists(id))
            return Error(404, $"no run {id}");
        return Results.Json(new JsonObject { ["deleted"] = id, ["files_kept"] = agent.Job.Store.RunFolder(id) });
    }

    /// <summary>
    /// Server-sent events: every event of the run from the one after Last-Event-ID, live until its outcome. A run this
    /// agent did not start (it ran before) is replayed from its metrics.jsonl and run.json.
    /// </summary>
    private static async Task StreamEvents(AgentServices agent, string id, HttpContext context)
    {
        if (!IsRunId(id))
        {
            await Error(400, $"run id \"{id}\" is not a run id").ExecuteAsync(context);
            return;
        }
        var log = agent.Events.Find(id) ?? Replay(agent, id);
        if (log is null)
        {
            await Error(404, $"no run {id}").ExecuteAsync(context);
            return;
        }
        long after = 0;
        var lastId = context.Request.Headers["Last-Event-ID"].ToString();
        if (lastId.Length > 0 && !long.TryParse(lastId, out after))
        {
            await Error(400, $"Last-Event-ID \"{lastId}\" is not an event number").ExecuteAsync(context);
            return;
        }
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        var cancellation = context.RequestAborted;
        await response.WriteAsync(": fta agent run events\n\n", cancellation);
        await response.Body.FlushAsync(cancellation);
        try
        {
            while (true)
            {
                // A comment line every 15 s keeps proxies and idle clients from closing a quiet stream.
                using var heartbeat = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                heartbeat.CancelAfter(TimeSpan.FromSeconds(15));
                IReadOnlyList<RunEventEntry> batch;
                try
                {
                    batch = await log.After(after, heartbeat.Token);
                }
                catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
                {
                    await response.WriteAsync(": keep-alive\n\n", cancellation);
                    await response.Body.FlushAsync(cancellation);
                    continue;
                }
                if (batch.Count == 0)
                    return; // the run ended and everything was sent
                var text = new StringBuilder();
                foreach (var e in batch)
                    text.Append("id: ").Append(e.Id).Append("\nevent: ").Append(e.Event).Append("\ndata: ").Append(e.Json).Append("\n\n");
                await response.WriteAsync(text.ToString(), cancellation);
                await response.Body.FlushAsync(cancellation);
                after = batch[^1].Id;
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // the client went away
        }
    }

    /// <summary>A finished run's events from its folder: metrics.jsonl, then an outcome from run.json.</summary>
    private static RunEventLog? Replay(AgentServices agent, string id)
    {
        var store = agent.Job.Store;
        if (!store.Exists(id))
            return null;
        var record = store.Get(id);
        if (record.Status is RunStatus.Running or RunStatus.Queued)
            return agent.Events.For(id); // (re)queued by this agent: its live log
        var log = new RunEventLog(id);
        foreach (var m in store.Metrics(id))
            log.Append((string?)m["event"] ?? "event", m);
        log.Append("outcome", new JsonObject
        {
            ["event"] = "outcome", ["run_id"] = id, ["status"] = record.Status.ToString().ToLowerInvariant(),
            ["error"] = record.Error, ["summary"] = record.Summary?.DeepClone(),
        }, last: true);
        return log;
    }

    private static async Task<IResult> Recommend(AgentServices agent, HttpRequest request)
    {
        var (body, error) = await ReadObject(request);
        if (error is not null)
            return error;
        string[] known = ["model", "params", "arch", "seq_len", "batch", "free_gb", "profile"];
        foreach (var (key, _) in body!)
        {
            if (!known.Contains(key))
                return Error(400, $"unknown field \"{key}\"{Spelling.DidYouMean(key, known)}; expected {string.Join(", ", known)}");
        }
        try
        {
            var folder = (string?)body["model"];
            var size = (string?)body["params"];
            var arch = (string?)body["arch"] ?? "qwen3";
            if ((folder is null) == (size is null))
                return Error(400, "give exactly one of \"model\" (a folder on the agent's machine) or \"params\" (such as \"7B\", with \"arch\")");
            var (config, name) = folder is not null
                ? (ModelConfigReader.Load(Path.Combine(folder, "config.json")), Path.GetFileName(Path.GetFullPath(folder).TrimEnd('/')))
                : (ReferenceModels.Config(size!, arch), $"{arch} {size!.ToUpperInvariant()}");
            var freeGb = body["free_gb"] is null ? (double?)null : body["free_gb"]!.GetValue<double>();
            var profile = (string?)body["profile"];
            if (freeGb is not null && profile is not null)
                return Error(400, "give \"free_gb\" or \"profile\", not both");
            if (freeGb is <= 0)
                return Error(400, $"free_gb must be above 0, got {freeGb}");
            var (budget, req) = profile is not null
                ? HardwareProfiles.Named(HardwareProfiles.Load(HardwareProfiles.DefaultFolder), profile).Plan()
                : freeGb is { } gb
                    ? (MemoryBudget.Gpu($"a GPU with {gb} GB free", (long)(gb * 1e9)), new Recommender.Request())
                    : MachineBudget.Of(new Core.Hardware.HardwareProbe().Probe());
            req = req with
            {
                SequenceLength = body["seq_len"]?.GetValue<int>() ?? 1024,
                EffectiveBatchSize = body["batch"]?.GetValue<int>() ?? 16,
            };
            if (req.SequenceLength < 1 || req.EffectiveBatchSize < 1)
                return Error(400, "seq_len and batch must be at least 1");
            return Results.Json(new Recommender(agent.Plugins.Method).Recommend(config, name, budget, req).ToJson());
        }
        // ModelConfigException: a "model" folder without a readable config.json is the request's fault (it was a 500).
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException or KeyNotFoundException
                                      or FileNotFoundException or InvalidDataException or DirectoryNotFoundException or ModelConfigException)
        {
            return Error(400, e.Message);
        }
    }

    /// <summary>The request body as one JSON object, or the 4xx to answer (not JSON: 400 with the position; too large: 413).</summary>
    internal static async Task<(JsonObject? Body, IResult? Error)> ReadObject(HttpRequest request)
    {
        if (request.ContentType is { } type && !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            return (null, Error(StatusCodes.Status415UnsupportedMediaType, $"send application/json, not {type}"));
        try
        {
            var node = await JsonNode.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
            return node is JsonObject o ? (o, null) : (null, Error(400, "the body must be one JSON object"));
        }
        catch (JsonException e)
        {
            return (null, Error(400, $"malformed JSON body at line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1}: {e.Message}"));
        }
        catch (BadHttpRequestException e)
        {
            return (null, Error(e.StatusCode, e.Message));
        }
    }
}
