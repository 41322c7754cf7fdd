using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using FineTuneAgent.Actors;
using FineTuneAgent.Agent.Cluster;
using FineTuneAgent.Core.Recommendation;
using FineTuneAgent.Modeling.Config;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FineTuneAgent.Agent.Daemon;

/// <summary>
/// The pool's part of the API, under <c>/api/v1/cluster</c>:
/// <list type="bullet">
/// <item><c>POST heartbeat</c> (also the join) and <c>POST leave</c>: agent to agent, each with the cluster token in
/// <see cref="ClusterNode.TokenHeader"/> (403 without it, 404 when this agent is not in a pool).</item>
/// <item><c>GET members</c>: every member with state, φ, load and hardware (this agent alone when not in a pool).</item>
/// <item><c>POST preflight</c>: before a distributed run (<c>model</c>, <c>datasets</c>, <c>members</c>, default all up):
/// asks each member (<c>POST preflight-facts</c>, agent to agent) for its versions, its hashes of the model and data,
/// and whether it reaches a port this agent opens for the check (as the TCPStore will be); answers the differences.</item>
/// <item><c>POST place</c>: where a run of a model would go (<c>model</c> folder or <c>params</c> + <c>arch</c>, <c>seq_len</c>):
/// each up member's best method, ranked.</item>
/// </list>
/// </summary>
public static class ClusterApi
{
    private static readonly TimeSpan s_ask = TimeSpan.FromSeconds(10);

    public static void Map(RouteGroupBuilder api, AgentServices agent)
    {
        var cluster = api.MapGroup("/cluster");
        cluster.MapPost("/heartbeat", (HttpRequest request) => Heartbeat(agent, request));
        cluster.MapPost("/join", (HttpRequest request) => Heartbeat(agent, request));
        cluster.MapPost("/leave", (HttpRequest request) => Leave(agent, request));
        cluster.MapGet("/members", () => Members(agent));
        cluster.MapPost("/place", (HttpRequest request) => Place(agent, request));
        cluster.MapPost("/preflight-facts", (HttpRequest request) => PreflightFacts(agent, request));
        cluster.MapPost("/preflight", (HttpRequest request) => RunPreflight(agent, request));
        cluster.MapPost("/worker", (HttpRequest request) => StartWorker(agent, request));
        cluster.MapPost("/handback", (HttpRequest request) => TakeBack(agent, request));
    }

    /// <summary>Whether the request carries this agent's cluster token (constant-time comparison).</summary>
    public static bool HasClusterToken(HttpRequest request, AgentServices agent) =>
        agent.Settings.Cluster.ClusterToken is { Length: > 0 } token
        && request.Headers[ClusterNode.TokenHeader].ToString() is { Length: > 0 } given
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(token));

    private static IResult? Refuse(AgentServices agent, HttpRequest request) =>
        agent.Cluster is null ? AgentApi.Error(404, "this agent is not in a pool (set agent.cluster.cluster-token, and seeds to join others)")
        : !HasClusterToken(request, agent) ? AgentApi.Error(403, $"agent-to-agent calls need the cluster token in {ClusterNode.TokenHeader}")
        : null;

    /// <summary>An agent-to-agent request's body, or the answer refusing it (no pool, no token, not a JSON object).</summary>
    private static async Task<(JsonObject? Body, IResult? Error)> ReadPeer(AgentServices agent, HttpRequest request) =>
        Refuse(agent, request) is { } refused ? (null, refused) : await AgentApi.ReadObject(request);

    private static async Task<IResult> Heartbeat(AgentServices agent, HttpRequest request)
    {
        var (body, error) = await ReadPeer(agent, request);
        if (error is not null)
            return error;
        try
        {
            var from = ClusterMember.FromJson(body!["member"] as JsonObject ?? throw new InvalidDataException("missing \"member\""));
            var view = await agent.Cluster!.Ask<JsonObject>(new HeartbeatReceived(from, body["members"] as JsonArray ?? []), s_ask);
            return Results.Json(view);
        }
        catch (InvalidDataException e)
        {
            return AgentApi.Error(400, e.Message);
        }
    }

    private static async Task<IResult> Leave(AgentServices agent, HttpRequest request)
    {
        var (body, error) = await ReadPeer(agent, request);
        if (error is not null)
            return error;
        if ((string?)body!["id"] is not { } id)
            return AgentApi.Error(400, "missing \"id\": the leaving member");
        return Results.Json(await agent.Cluster!.Ask<JsonObject>(new MemberLeft(id), s_ask));
    }

    private static async Task<IReadOnlyList<ClusterMember>> CurrentMembers(AgentServices agent)
    {
        if (agent.Cluster is { } cluster)
            return (await cluster.Ask<MembersView>(GetMembers.Instance, s_ask)).Members;
        var queue = await agent.Root.Ask<Jobs.QueueState>(Jobs.GetQueue.Instance, s_ask);
        return [new ClusterMember(agent.Name, agent.Name, agent.Url?.ToString() ?? "") { State = MemberState.Up, Hardware = agent.Hardware.ToJson(), Running = queue.Running.Count, Queued = queue.Waiting.Count }];
    }

    private static async Task<IResult> Members(AgentServices agent)
    {
        var members = await CurrentMembers(agent);
        return Results.Json(new JsonObject
        {
            ["self"] = members[0].Id,
            ["pool"] = agent.Cluster is not null,
            ["members"] = new JsonArray(members.Select(m => (JsonNode)m.ToJson()).ToArray()),
        });
    }

    private static PreflightRequest ReadPreflight(JsonObject body) => new(
        (string?)body["model"],
        (body["datasets"] as JsonArray ?? []).Select(d => (string?)d ?? throw new InvalidDataException("datasets: expected file paths")).ToList(),
        (string?)body["store"],
        (body["ports"] as JsonArray ?? []).Select(p => (int?)p ?? throw new InvalidDataException("ports: expected numbers")).ToList());

    private static async Task<IResult> PreflightFacts(AgentServices agent, HttpRequest request)
    {
        var (body, error) = await ReadPeer(agent, request);
        if (error is not null)
            return error;
        try
        {
            return Results.Json(await Preflight.Facts(ReadPreflight(body!), agent.Plugins));
        }
        catch (Exception e) when (e is InvalidDataException or InvalidOperationException or FormatException or ArgumentException)
        {
            return AgentApi.Error(400, e.Message);
        }
    }

    private static async Task<IResult> RunPreflight(AgentServices agent, HttpRequest request)
    {
        var (body, error) = await AgentApi.ReadObject(request);
        if (error is not null)
            return error;
        PreflightRequest asked;
        try
        {
            asked = ReadPreflight(body!);
        }
        catch (InvalidDataException e)
        {
            return AgentApi.Error(400, e.Message);
        }
        var all = await CurrentMembers(agent);
        var names = (body!["members"] as JsonArray)?.Select(n => (string?)n).ToList();
        var chosen = names is null ? all.Where(m => m.State == MemberState.Up).ToList() : all.Where(m => names.Contains(m.Name)).ToList();
        if (names?.Except(chosen.Select(m => m.Name)).ToList() is { Count: > 0 } unknown)
            return AgentApi.Error(400, $"members: no member named {string.Join(", ", unknown)} (members: {string.Join(", ", all.Select(m => m.Name))})");
        // A port opened here for the check, as the TCPStore will be at run time: members must reach it.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Any, 0);
        listener.Start();
        var host = agent.Url?.Host ?? "127.0.0.1";
        var probe = asked with { Store = $"{host}:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}" };
        using var accept = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (!accept.IsCancellationRequested)
                    (await listener.AcceptTcpClientAsync(accept.Token)).Dispose();
            }
            catch (OperationCanceledException)
            {
                // the check is over
            }
        });
        var self = all[0];
        var report = await Preflight.Check(agent.Plugins, agent.Settings.Cluster.ClusterToken, chosen.Any(m => m.Id == self.Id) ? self.Name : null,
            chosen.Where(m => m.Id != self.Id), probe);
        accept.Cancel();
        await accepting;
        return Results.Json(report);
    }

    /// <summary>Agent to agent: start `fta worker` here for one rank of a data-parallel run another member coordinates.</summary>
    private static async Task<IResult> StartWorker(AgentServices agent, HttpRequest request)
    {
        var (body, error) = await ReadPeer(agent, request);
        if (error is not null)
            return error;
        try
        {
            var pid = DistributedRuns.StartLocalWorker(agent, body!);
            return Results.Json(new JsonObject { ["pid"] = pid, ["member"] = agent.Name }, statusCode: StatusCodes.Status202Accepted);
        }
        catch (Exception e) when (e is InvalidDataException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return AgentApi.Error(400, e.Message);
        }
    }

    /// <summary>
    /// Agent to agent: a member that leaves gives back a run this agent placed there. This agent takes it over: from the
    /// member's last checkpoint (its output folder must be readable here: the same machine or a shared folder), or from
    /// the start when it had none; the history keeps the steps mirrored so far and drops those after the checkpoint.
    /// </summary>
    private static async Task<IResult> TakeBack(AgentServices agent, HttpRequest request)
    {
        var (body, error) = await ReadPeer(agent, request);
        if (error is not null)
            return error;
        try
        {
            var id = (string?)body!["run_id"] ?? throw new InvalidDataException("missing \"run_id\"");
            var config = body["config"] as JsonObject ?? throw new InvalidDataException("missing \"config\"");
            var train = Core.Training.TrainRequest.FromJson(config, $"run {id} handed back");
            agent.RemoteRuns?.Forget(id);
            var store = agent.Job.Store;
            var checkpoint = (string?)body["checkpoint"];
            if (checkpoint is not null && Directory.Exists(checkpoint))
            {
                if (!store.Exists(id))
                    store.Create(id, train.ToJson(), train.OutputDirectory, Core.Training.RunStatus.Queued);
                return await AgentApi.Submit(agent, Jobs.StartRun.Resume(id));
            }
            return await AgentApi.Submit(agent, Jobs.StartRun.New(train));
        }
        catch (Exception e) when (e is InvalidDataException or InvalidOperationException)
        {
            return AgentApi.Error(400, e.Message);
        }
    }

    private static async Task<IResult> Place(AgentServices agent, HttpRequest request)
    {
        var (body, error) = await AgentApi.ReadObject(request);
        if (error is not null)
            return error;
        try
        {
            var folder = (string?)body!["model"];
            var size = (string?)body["params"];
            if ((folder is null) == (size is null))
                return AgentApi.Error(400, "give exactly one of \"model\" (a folder) or \"params\" (such as \"7B\", with \"arch\")");
            var arch = (string?)body["arch"] ?? "qwen3";
            var (config, name) = folder is not null
                ? (ModelConfigReader.Load(Path.Combine(folder, "config.json")), Path.GetFileName(Path.GetFullPath(folder).TrimEnd('/')))
                : (ReferenceModels.Config(size!, arch), $"{arch} {size!.ToUpperInvariant()}");
            var members = (await CurrentMembers(agent)).Where(m => m.State == MemberState.Up && m.Hardware is not null)
                .Select(m => PlacementCandidate.FromHardwareJson(m.Name, m.Hardware!, m.Running, m.Queued));
            var decision = Placement.Choose(new Recommender(agent.Plugins.Method), config, name, members, body["seq_len"]?.GetValue<int>() ?? 1024);
            return Results.Json(decision.ToJson());
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or InvalidOperationException or FormatException
                                      or FileNotFoundException or DirectoryNotFoundException or KeyNotFoundException)
        {
            return AgentApi.Error(400, e.Message);
        }
    }
}
