using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using FineTuneAgent.Actors;
using FineTuneAgent.Agent.Daemon;
using FineTuneAgent.Core.History;
using FineTuneAgent.Core.Training;
using FineTuneAgent.Torch;

namespace FineTuneAgent.Agent.Cluster;

/// <summary>
/// Data-parallel runs across the pool, coordinated by the agent they were submitted to (rank 0, which also hosts the
/// c10d TCPStore and writes checkpoints, metrics and the history). A session: preflight over the members (versions,
/// model and data hashes, the store's port reachable), a fresh store port, each other member asked to start
/// `fta worker` with its rank (`POST /cluster/worker`), rank 0 trained in this process. A lost worker ends the
/// session's next collective at once (or after the group timeout if it hangs): the run is paused, the members still
/// up are taken (a member whose agent died is dropped once its failure detector says so), and a new session resumes
/// from the last checkpoint. The global batch does not depend on the number of workers, so the run's steps are the
/// same whichever members finish it. The run's <c>device</c> option is resolved here, on the coordinator: CUDA makes
/// every worker train on cuda:&lt;its local rank&gt; in an NCCL group (the preflight checks each member has NCCL and a
/// GPU), else every worker trains on its CPU in a Gloo group.
/// </summary>
public sealed class DistributedRuns(AgentServices agent)
{
    public const int MaxSessions = 4;
    private static readonly TimeSpan s_groupTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Starts the run on this agent and <paramref name="members"/>; returns at once (the run goes on in the background).</summary>
    public void Start(TrainRequest request, IReadOnlyList<ClusterMember> members)
    {
        var log = agent.Events.For(request.RunId);
        var store = agent.Job.Store;
        Directory.CreateDirectory(store.RunFolder(request.RunId));
        var configFile = Path.Combine(store.RunFolder(request.RunId), "distributed_config.json");
        File.WriteAllText(configFile, request.ToJson().ToJsonString());
        log.Append("distributed", new JsonObject
        {
            ["event"] = "distributed", ["run_id"] = request.RunId,
            ["members"] = new JsonArray(members.Select(m => (JsonNode?)m.Name).Prepend(agent.Name).ToArray()),
        });
        Task.Factory.StartNew(() => Coordinate(request, configFile, members.Select(m => m.Name).ToList(), log),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private void Coordinate(TrainRequest request, string configFile, List<string> wanted, RunEventLog log)
    {
        var id = request.RunId;
        var history = new RunHistory(agent.History, id);
        string? checkpoint = null;
        string? lastError = null;
        // The coordinator decides the device kind for every worker (they must form one kind of group); each worker
        // then takes its own device on its host: cuda:<local rank>, or the CPU.
        bool onCuda;
        try
        {
            onCuda = TrainingDevice.Resolve(request.Options.Device).type == DeviceType.CUDA;
        }
        catch (TrainingOptionsException e)
        {
            Fail(id, log, history, e.Message);
            return;
        }
        var kind = onCuda ? "cuda" : "cpu";
        for (var session = 1; session <= MaxSessions; session++)
        {
            try
            {
                var members = UpMembers(wanted);
                var preflight = Preflight(request, members, onCuda);
                if ((bool?)preflight["ok"] != true)
                {
                    Fail(id, log, history, "preflight failed: " + string.Join("; ", preflight["problems"]!.AsArray().Select(p => (string?)p)));
                    return;
                }
                var port = FreePort();
                var host = agent.Url?.Host ?? "127.0.0.1";
                var world = members.Count + 1;
                var localRanks = LocalRanks(members.Select(m => new Uri(m.Url).Host).Prepend(host).ToList());
                log.Append("session", new JsonObject
                {
                    ["event"] = "session", ["session"] = session, ["world_size"] = world, ["store"] = $"{host}:{port}", ["resume"] = checkpoint,
                    ["members"] = new JsonArray(members.Select(m => (JsonNode?)m.Name).Prepend(agent.Name).ToArray()),
                });
                // A resumed session repeats the steps after its checkpoint: their rows go (as metrics.jsonl's do).
                if (checkpoint is not null && history.IsRecorded)
                    history.RestartsAfter(TrainerState.Read(checkpoint).GlobalStep);
                // Rank 0 first (it serves the store), then each other member starts its worker against it.
                var options = new DataParallelWorkerOptions
                {
                    StoreHost = host, StorePort = port, Rank = 0, WorldSize = world, RunConfig = configFile, Resume = checkpoint, Timeout = s_groupTimeout,
                    ListenAddress = host, Device = kind, LocalRank = localRanks[0],
                };
                var progress = new Core.SynchronousProgress<TrainingEvent>(e =>
                {
                    if (!history.IsRecorded && agent.Job.Store.Exists(id))
                    {
                        history.Recorded(HistoryRun.FromRecord(agent.Job.Store.Get(id), agent.Job.Store));
                        if (checkpoint is not null)
                            history.RestartsAfter(TrainerState.Read(checkpoint).GlobalStep);
                    }
                    history.Report(e);
                    var json = TrainingEventJson.Write(e);
                    log.Append((string?)json["event"] ?? "event", json);
                });
                var training = Task.Factory.StartNew(() => DataParallelWorker.Run(agent.Job, options, progress), CancellationToken.None,
                    TaskCreationOptions.LongRunning, TaskScheduler.Default);
                for (var rank = 1; rank < world; rank++)
                    StartWorker(members[rank - 1], id, host, port, rank, world, request, checkpoint, log, kind, localRanks[rank]);
                var summary = training.GetAwaiter().GetResult();
                history.Completed(summary);
                Flush(); // the outcome is streamed once the history has it
                log.Append("outcome", new JsonObject { ["event"] = "outcome", ["run_id"] = id, ["status"] = "completed", ["summary"] = summary.ToJson() }, last: true);
                return;
            }
            catch (Exception e) when (e is TorchException or InvalidOperationException or HttpRequestException or IOException or InvalidDataException)
            {
                lastError = $"{e.GetType().Name}: {e.Message}";
                checkpoint = CheckpointFolder.Latest(request.OutputDirectory);
                log.Append("paused", new JsonObject
                {
                    ["event"] = "paused", ["run_id"] = id, ["session"] = session, ["reason"] = lastError, ["resume_from"] = checkpoint,
                });
                // Let the failure detectors judge the members before the next session picks them.
                var settle = agent.Settings.Cluster.AcceptableHeartbeatPause + 3 * agent.Settings.Cluster.HeartbeatInterval + agent.Settings.Cluster.DownAfter / 2;
                Thread.Sleep(settle);
            }
        }
        Fail(id, log, history, $"gave up after {MaxSessions} sessions; last: {lastError}");
    }

    private void Fail(string id, RunEventLog log, RunHistory history, string reason)
    {
        if (agent.Job.Store.Exists(id))
            agent.Job.Store.Save(agent.Job.Store.Get(id) with { Status = RunStatus.Failed, Error = reason });
        history.Failed(reason);
        Flush();
        log.Append("outcome", new JsonObject { ["event"] = "outcome", ["run_id"] = id, ["status"] = "failed", ["error"] = reason }, last: true);
    }

    /// <summary>Waits until the history has committed what was told so far (a client reading the run after its outcome finds it ended).</summary>
    private void Flush()
    {
        try
        {
            agent.History.Ask<HistoryProtocol.Written>(HistoryProtocol.Flush.Instance, TimeSpan.FromMinutes(1)).GetAwaiter().GetResult();
        }
        catch (AskTimeoutException)
        {
            // the run folder still has everything; the history catches up on import
        }
    }

    private List<ClusterMember> UpMembers(List<string> wanted)
    {
        var view = agent.Cluster!.Ask<MembersView>(GetMembers.Instance, TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
        return view.Members.Skip(1).Where(m => m.State == MemberState.Up && wanted.Contains(m.Name)).OrderBy(m => wanted.IndexOf(m.Name)).ToList();
    }

    /// <summary>Each worker's index among the workers on its host, for hosts listed in rank order (torchrun's LOCAL_RANK).</summary>
    public static IReadOnlyList<int> LocalRanks(IReadOnlyList<string> hostsByRank) =>
        hostsByRank.Select((h, rank) => hostsByRank.Take(rank).Count(other => string.Equals(other, h, StringComparison.OrdinalIgnoreCase))).ToList();

    private JsonObject Preflight(TrainRequest request, List<ClusterMember> members, bool onCuda)
    {
        var asked = new PreflightRequest(request.ModelDirectory, request.Datasets.Where(Path.IsPathRooted).ToList(), null, [], onCuda);
        return Cluster.Preflight.Check(agent.Plugins, agent.Settings.Cluster.ClusterToken, agent.Name, members, asked).GetAwaiter().GetResult();
    }

    private void StartWorker(ClusterMember member, string id, string host, int port, int rank, int world, TrainRequest request, string? checkpoint, RunEventLog log,
        string device, int localRank)
    {
        using var http = Http();
        using var response = http.PostAsync(new Uri(new Uri(member.Url), "api/v1/cluster/worker"), Json(new JsonObject
        {
            ["run_id"] = id, ["store"] = $"{host}:{port}", ["rank"] = rank, ["world_size"] = world, ["run_config"] = request.ToJson(),
            ["resume"] = checkpoint, ["timeout_seconds"] = s_groupTimeout.TotalSeconds, ["device"] = device, ["local_rank"] = localRank,
        })).GetAwaiter().GetResult();
        var answer = JsonNode.Parse(response.Content.ReadAsStringAsync().GetAwaiter().GetResult())!.AsObject();
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"member {member.Name} did not start rank {rank}: {answer["error"]}");
        log.Append("worker", new JsonObject { ["event"] = "worker", ["member"] = member.Name, ["rank"] = rank, ["pid"] = answer["pid"]?.DeepClone() });
    }

    private HttpClient Http() => PeerHttp.Create(agent.Settings.Cluster.ClusterToken, TimeSpan.FromMinutes(2));

    private static StringContent Json(JsonObject body) => new(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// A member's side: starts `fta worker` for one rank of a run coordinated elsewhere, as a child process logging
    /// to &lt;runs&gt;/workers/&lt;run&gt;-r&lt;rank&gt;.log; returns its pid.
    /// </summary>
    public static int StartLocalWorker(AgentServices agent, JsonObject body)
    {
        var id = (string?)body["run_id"] ?? throw new InvalidDataException("missing \"run_id\"");
        var rank = (int?)body["rank"] ?? throw new InvalidDataException("missing \"rank\"");
        var world = (int?)body["world_size"] ?? throw new InvalidDataException("missing \"world_size\"");
        var store = (string?)body["store"] ?? throw new InvalidDataException("missing \"store\"");
        var config = body["run_config"] as JsonObject ?? throw new InvalidDataException("missing \"run_config\"");
        TrainRequest.FromJson(config, "run_config"); // validated before a process is started for it
        var folder = Path.Combine(agent.Job.Store.Folder, "workers");
        Directory.CreateDirectory(folder);
        var configFile = Path.Combine(folder, $"{id}-r{rank}.json");
        File.WriteAllText(configFile, config.ToJsonString());
        var process = Environment.ProcessPath ?? "dotnet";
        // This program again: `dotnet fta.dll` when the agent runs through dotnet, else its own executable.
        var self = Path.GetFileNameWithoutExtension(process) == "dotnet" ? new[] { process, Path.Combine(AppContext.BaseDirectory, "fta.dll") } : [process];
        var args = self.Skip(1).Concat(["worker", "--store", store, "--rank", rank.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--world", world.ToString(System.Globalization.CultureInfo.InvariantCulture), "--run-config", configFile, "--runs-dir", agent.Job.Store.Folder,
            "--timeout", ((double?)body["timeout_seconds"] ?? 60).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--listen", agent.Url?.Host ?? "127.0.0.1", "--json"]).ToList();
        if ((string?)body["resume"] is { } resume)
            args.AddRange(["--resume", resume]);
        if ((string?)body["device"] is { } device)
            args.AddRange(["--device", TrainingDevice.IsWellFormed(device) ? device : throw new InvalidDataException($"\"device\": \"{device}\" is not one of auto, cpu, cuda, cuda:N")]);
        if ((int?)body["local_rank"] is { } localRank)
            args.AddRange(["--local-rank", localRank.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        var psi = new ProcessStartInfo(self[0], args) { RedirectStandardOutput = true, RedirectStandardError = true };
        var child = Process.Start(psi) ?? throw new InvalidOperationException("fta worker did not start");
        var logFile = Path.Combine(folder, $"{id}-r{rank}.log");
        var logStream = File.Create(logFile);
        _ = child.StandardOutput.BaseStream.CopyToAsync(logStream).ContinueWith(_ =>
        {
            logStream.Dispose();
            child.Dispose();
        }, TaskScheduler.Default);
        _ = child.StandardError.ReadToEndAsync();
        return child.Id;
    }
}
