using System.Collections.Concurrent;
using FineTuneAgent.Actors;
using FineTuneAgent.Agent.Jobs;
using FineTuneAgent.Core.History;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Agent.Tests;

/// <summary>Trainings draw from libtorch's one global generator: these run on their own.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrainingCollection
{
    public const string Name = "training jobs";
}

/// <summary>
/// What the job tests share: an actor system, a run store in a temporary folder, jobs over the real plugins (the
/// built-in tiny Qwen3, written once per store), a small dataset the model can fit in a few steps, and a way to run
/// a job through AgentRoot collecting every event the client sees.
/// </summary>
public sealed class JobHarness : IDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromMinutes(3); // only so a bug cannot hang the run
    private static readonly Lazy<PluginHost> s_plugins = new(() => PluginHost.Load(Path.Combine(AppContext.BaseDirectory, "plugins")));
    private readonly ActorSystem _system = ActorSystem.Create("jobs");
    private int _roots;
    private IActorRef? _historyWriter;

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), $"fta-jobs-{Guid.NewGuid():N}");

    public RunStore Store => new(Path.Combine(Folder, "runs"));

    /// <summary>The SQLite history beside the runs, once <see cref="RecordHistory"/> was called (later runs are recorded there).</summary>
    public HistoryStore? History { get; private set; }

    /// <summary>From now on runs are recorded in <see cref="History"/> through one writer actor, as `fta train` does.</summary>
    public HistoryStore RecordHistory()
    {
        if (History is null)
        {
            History = HistoryStore.Open(HistoryStore.DefaultPath(Store.Folder));
            _historyWriter = _system.ActorOf(HistoryWriter.Props(History), "history");
        }
        return History;
    }

    public void Dispose()
    {
        _system.Dispose();
        if (Directory.Exists(Folder))
            Directory.Delete(Folder, recursive: true);
    }

    public TrainingJob Job(Action<Trainer, CancellationToken>? hook = null) =>
        new(Store, s_plugins.Value, Path.Combine(Repo.Root(), "artifacts", "tokenizers")) { ConfigureTrainer = hook };

    /// <summary>A new run of <paramref name="method"/> (rank 4) on 8 arithmetic rows: 4 steps of batch 4, a checkpoint every step.</summary>
    public TrainRequest Request(string method = "lora")
    {
        Directory.CreateDirectory(Folder);
        var data = Path.Combine(Folder, "data.jsonl");
        File.WriteAllLines(data, Enumerable.Range(1, 8).Select(i => $"{{\"instruction\": \"What is {i} + {i}?\", \"input\": \"\", \"output\": \"{i} + {i} = {2 * i}.\"}}"));
        return new TrainRequest
        {
            Datasets = [data],
            Method = method,
            MethodSettings = new() { ["r"] = 4 },
            OutputDirectory = Path.Combine(Folder, $"out-{Guid.NewGuid():N}"),
            Options = new TrainingOptions
            {
                MaxSteps = 4,
                PerDeviceTrainBatchSize = 4,
                GradientAccumulationSteps = 1,
                LearningRate = 1e-3,
                SaveSteps = 1,
                LoggingSteps = 1,
                CutoffLen = 64,
                WarmupRatio = 0,
            },
        };
    }

    public Task<(JobOutcome Outcome, List<TrainingEvent> Events, IActorRef Root)> Run(TrainingJob job, TrainRequest request, CancellationToken cancellation = default) =>
        Run(job, StartRun.New(request), cancellation);

    public async Task<(JobOutcome Outcome, List<TrainingEvent> Events, IActorRef Root)> Run(TrainingJob job, StartRun start, CancellationToken cancellation = default)
    {
        var history = _historyWriter;
        var root = _system.ActorOf(Props.Create(() => new AgentRoot(job, null, history)), $"agent-{++_roots}");
        var events = new ConcurrentQueue<TrainingEvent>();
        var outcome = await JobClient.Run(_system, root, start, events.Enqueue, cancellation).WaitAsync(Patience);
        if (history is not null)
            await history.Ask<HistoryProtocol.Written>(HistoryProtocol.Flush.Instance, Patience);
        return (outcome, events.ToList(), root);
    }

    /// <summary>The stages in the order the run started them (a stage started twice appears twice).</summary>
    public static List<string> Stages(IEnumerable<TrainingEvent> events) => events.OfType<StageStarted>().Select(s => s.Stage).ToList();
}
