using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using FineTuneAgent.Actors;
using FineTuneAgent.Agent.Cluster;
using FineTuneAgent.Agent.Jobs;
using FineTuneAgent.Core;
using FineTuneAgent.Core.Config;
using FineTuneAgent.Core.Hardware;
using FineTuneAgent.Core.History;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Training;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FineTuneAgent.Agent.Daemon;

/// <summary>
/// The long-lived agent of a workstation (`fta agent`): the actor system with its <see cref="AgentRoot"/> and run
/// queue, the plugin host, the run store and SQLite history (one writer actor), and the HTTP API on Kestrel
/// (<see cref="AgentApi"/>). One agent per runs folder: it holds &lt;runs&gt;/agent.lock while it lives and writes
/// &lt;runs&gt;/agent.json (its URL and pid) so clients find it. On start it recovers the runs a previous agent
/// left unfinished; <see cref="StopAsync"/> (SIGTERM) checkpoints running runs, records them interrupted, and stops.
/// </summary>
public sealed class AgentDaemon : IAsyncDisposable
{
    public const string LockFileName = "agent.lock";
    public const string InfoFileName = "agent.json";

    private readonly FileLock _lock;
    private readonly ActorSystem _system;
    private readonly WebApplication _web;
    private readonly TextWriter _log;
    private bool _stopped;

    private AgentDaemon(AgentSettings settings, FileLock agentLock, ActorSystem system, WebApplication web, AgentServices services, TextWriter log)
    {
        Settings = settings;
        _lock = agentLock;
        _system = system;
        _web = web;
        Services = services;
        _log = log;
    }

    public AgentSettings Settings { get; }

    public AgentServices Services { get; }

    /// <summary>Where the API listens (the real port when the settings asked for 0).</summary>
    public Uri Url { get; private set; } = new("http://127.0.0.1/");

    /// <summary>What became of the runs a previous agent left unfinished.</summary>
    public IReadOnlyList<RecoveredRun> Recovered { get; private set; } = [];

    /// <summary>
    /// Starts the agent with <paramref name="settings"/> (validated by the config binder: a non-loopback address
    /// needs a token). Fails, touching nothing, when another agent serves the same runs folder or the history
    /// cannot be opened.
    /// </summary>
    public static async Task<AgentDaemon> StartAsync(AgentSettings settings, TextWriter? log = null, string? tokenizersFolder = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        log ??= TextWriter.Null;
        if (!settings.Http.IsLoopback && string.IsNullOrEmpty(settings.Http.AuthToken))
            throw new InvalidOperationException($"agent.http.bind-address {settings.Http.BindAddress}: listening beyond this machine needs agent.http.auth-token");
        var runs = new RunStore(settings.RunsDirectory);
        Directory.CreateDirectory(runs.Folder);
        var agentLock = FileLock.TryTake(Path.Combine(runs.Folder, LockFileName), out var holder)
            ?? throw new InvalidOperationException($"another agent ({holder}) already serves {runs.Folder}; stop it first or give this one another agent.runs-directory");
        ActorSystem? system = null;
        PluginHost? plugins = null;
        WebApplication? web = null;
        try
        {
            var history = HistoryStore.Open(HistoryStore.DefaultPath(runs.Folder));
            plugins = PluginHost.Load(settings.PluginsDirectory);
            var job = new TrainingJob(runs, plugins, tokenizersFolder);
            system = ActorSystem.Create("fta-agent");
            var writer = system.ActorOf(HistoryWriter.Props(history), "history");
            var hub = new RunEventHub();
            var queue = new RunQueue([new DeviceSlot("cpu", long.MaxValue, Shareable: false)]);
            var root = system.ActorOf(Props.Create(() => new AgentRoot(job, null, writer, queue, hub)), "agent");
            var services = new AgentServices(settings, job, plugins, history, writer, root, hub, new HardwareProbe().Probe(), DateTimeOffset.UtcNow);
            web = BuildWeb(settings.Http, services);
            var daemon = new AgentDaemon(settings, agentLock, system, web, services, log);
            await web.StartAsync().ConfigureAwait(false);
            daemon.Url = new Uri(web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            services.Url = daemon.Url;
            if (settings.Cluster.IsEnabled)
            {
                // The node starts once the API listens: its URL is what peers call back.
                var self = new ClusterMember($"{settings.Name}@{daemon.Url}#{services.StartedAt:yyyyMMddHHmmssfff}", settings.Name, daemon.Url.ToString())
                {
                    Hardware = services.Hardware.ToJson(),
                    Version = typeof(AgentDaemon).Assembly.GetName().Version?.ToString(),
                };
                services.Cluster = system.ActorOf(ClusterNode.Props(settings.Cluster, self, root), "cluster");
                services.RemoteRuns = new RemoteRuns(settings.Cluster.ClusterToken, writer, hub, daemon.Url.ToString());
                services.Distributed = new DistributedRuns(services);
                log.WriteLine($"fta agent {settings.Name}: in the pool as {self.Id}; seeds: {(settings.Cluster.Seeds.Count == 0 ? "none (others join this one)" : string.Join(", ", settings.Cluster.Seeds))}");
            }
            daemon.WriteInfo();
            log.WriteLine($"fta agent {services.Name}: listening on {daemon.Url} (auth {(settings.Http.AuthToken is null ? "off, loopback only" : "on")}); runs in {runs.Folder}");
            var recovered = await root.Ask<RunsRecovered>(RecoverRuns.Instance, TimeSpan.FromMinutes(1)).ConfigureAwait(false);
            daemon.Recovered = recovered.Runs;
            foreach (var r in recovered.Runs)
                log.WriteLine($"recovered run {r.RunId}: {r.Outcome}, {r.Detail}");
            return daemon;
        }
        catch
        {
            if (web is not null)
                await web.DisposeAsync().ConfigureAwait(false);
            system?.Dispose();
            plugins?.Dispose();
            agentLock.Dispose();
            throw;
        }
    }

    private static WebApplication BuildWeb(HttpSettings http, AgentServices services)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "fta-agent", ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = http.MaxRequestBodySize;
            k.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            k.AddServerHeader = false;
            var address = http.BindAddress == "localhost" ? IPAddress.Loopback : IPAddress.Parse(http.BindAddress);
            k.Listen(address, http.Port, o => o.Protocols = HttpProtocols.Http1);
        });
        builder.Services.AddSingleton(services);
        var web = builder.Build();
        AgentApi.Map(web, services);
        return web;
    }

    /// <summary>&lt;runs&gt;/agent.json: where this agent listens, for clients on this machine.</summary>
    private void WriteInfo()
    {
        var info = new JsonObject
        {
            ["name"] = Services.Name,
            ["url"] = Url.ToString(),
            ["pid"] = Environment.ProcessId,
            ["started_at"] = Services.StartedAt.ToString("O"),
            ["auth"] = Settings.Http.AuthToken is not null,
        };
        Torch.AtomicFile.Write(Path.Combine(Services.Job.Store.Folder, InfoFileName), s => s.Write(System.Text.Encoding.UTF8.GetBytes(info.ToJsonString())));
    }

    /// <summary>
    /// Stops the agent: no new runs; running runs save a checkpoint and stop, recorded interrupted (resumed by the next
    /// agent); the history is flushed; the API closes; the lock is released. Waits at most <paramref name="patience"/>
    /// for the runs (a step in progress finishes first).
    /// </summary>
    public async Task StopAsync(TimeSpan? patience = null)
    {
        if (_stopped)
            return;
        _stopped = true;
        var clock = Stopwatch.StartNew();
        try
        {
            var stopped = await Services.Root.Ask<RunsStopped>(ShutdownRuns.Instance, patience ?? TimeSpan.FromMinutes(10)).ConfigureAwait(false);
            _log.WriteLine($"fta agent: runs stopped in {clock.Elapsed.TotalSeconds:F1} s");
        }
        catch (AskTimeoutException)
        {
            _log.WriteLine("fta agent: runs did not stop in time; their last checkpoints stay and the next agent resumes them");
        }
        if (Services.Cluster is { } cluster)
        {
            // Runs other members placed here go back to them (from their checkpoint), then the pool is told we leave.
            await HandBack().ConfigureAwait(false);
            try
            {
                await cluster.Ask<LeftCluster>(LeaveCluster.Instance, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
            catch (AskTimeoutException)
            {
                // peers will find out by their failure detectors
            }
        }
        try
        {
            await Services.History.Ask<HistoryProtocol.Written>(HistoryProtocol.Flush.Instance, TimeSpan.FromMinutes(1)).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            _log.WriteLine("fta agent: the history did not confirm its last writes; run folders keep everything for the next import");
        }
        await _web.StopAsync().ConfigureAwait(false);
        await _web.DisposeAsync().ConfigureAwait(false);
        _system.Dispose();
        Services.RemoteRuns?.Dispose();
        Services.Plugins.Dispose();
        try
        {
            File.Delete(Path.Combine(Services.Job.Store.Folder, InfoFileName));
        }
        catch (IOException)
        {
        }
        _lock.Dispose();
    }

    /// <summary>
    /// Gives each run another member placed here and that did not finish (interrupted by this stop, or still queued)
    /// back to that member, with its last checkpoint; a run handed back is recorded here as cancelled, so this agent
    /// does not resume it when it starts again. A member that does not take it back keeps it here (resumed next start).
    /// </summary>
    private async Task HandBack()
    {
        var store = Services.Job.Store;
        using var http = PeerHttp.Create(Settings.Cluster.ClusterToken, TimeSpan.FromSeconds(10));
        foreach (var (id, origin) in Services.Origins)
        {
            if (!store.Exists(id) || store.Get(id) is not { Status: RunStatus.Interrupted or RunStatus.Queued } record)
                continue;
            var checkpoint = CheckpointFolder.Latest(record.OutputDirectory);
            try
            {
                using var response = await http.PostAsync(new Uri(new Uri(origin), "api/v1/cluster/handback"), new StringContent(new JsonObject
                {
                    ["run_id"] = id, ["checkpoint"] = checkpoint, ["config"] = record.Config.DeepClone(), ["from"] = Services.Name,
                }.ToJsonString(), System.Text.Encoding.UTF8, "application/json")).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    _log.WriteLine($"fta agent: {origin} did not take run {id} back ({(int)response.StatusCode}); it stays here");
                    continue;
                }
                var reason = $"handed back to {origin} when agent {Services.Name} left{(checkpoint is null ? "" : $", from {checkpoint}")}";
                store.Save(store.Get(id) with { Status = RunStatus.Cancelled, Error = reason });
                Services.History.Tell(new HistoryProtocol.UpdateStatus(id, RunStatus.Cancelled, reason));
                _log.WriteLine($"fta agent: run {id} {reason}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                _log.WriteLine($"fta agent: could not hand run {id} back to {origin} ({e.Message}); it stays here");
            }
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);
}

/// <summary>What the API handlers share: the agent's parts and facts.</summary>
public sealed class AgentServices(AgentSettings settings, TrainingJob job, PluginHost plugins, HistoryStore historyStore, IActorRef history,
    IActorRef root, RunEventHub events, HardwareReport hardware, DateTimeOffset startedAt)
{
    public AgentSettings Settings => settings;

    public string Name => settings.Name;

    public TrainingJob Job => job;

    public PluginHost Plugins => plugins;

    public HistoryStore HistoryStore => historyStore;

    /// <summary>The history's writer actor.</summary>
    public IActorRef History => history;

    public IActorRef Root => root;

    public RunEventHub Events => events;

    /// <summary>The hardware as probed at start (GPU free memory is probed again on request).</summary>
    public HardwareReport Hardware => hardware;

    public DateTimeOffset StartedAt => startedAt;

    public Uri? Url { get; set; }

    /// <summary>The cluster node actor, when clustering is on (agent.cluster has seeds or a token).</summary>
    public IActorRef? Cluster { get; set; }

    /// <summary>Runs other members placed here: run id → the submitting member's URL, to hand them back if this agent leaves.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, string> Origins { get; } = new();

    /// <summary>Data-parallel runs this agent coordinates (when in a pool).</summary>
    public DistributedRuns? Distributed { get; set; }

    /// <summary>Runs this agent placed on other members (when in a pool).</summary>
    public RemoteRuns? RemoteRuns { get; set; }

    /// <summary>Exports asked through the API.</summary>
    public RunExports Exports { get; } = new(job.Store, plugins, history);
}
