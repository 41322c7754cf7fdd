using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using FineTuneAgent.Actors;
using FineTuneAgent.Agent.Stages;
using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Core.Evaluation;
using FineTuneAgent.Core.Models;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Agent.Tests;

/// <summary>The evaluator stage as an actor: work off the mailbox, progress to the requester, results stored with the run, failures and cancel as Status.Failure.</summary>
public sealed class EvaluatorStageTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3); // only so a bug cannot hang the run
    private static readonly Lazy<PluginHost> s_plugins = new(() => PluginHost.Load(Path.Combine(AppContext.BaseDirectory, "plugins")));
    private readonly ActorSystem _system = ActorSystem.Create("evaluator");
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"fta-evalstage-{Guid.NewGuid():N}");

    public EvaluatorStageTests()
    {
        Directory.CreateDirectory(_dir);
        BuiltInModel.Create(s_plugins.Value.TemplateNamed("qwen3"), "tiny", Model, seed: 2, Path.Combine(Repo.Root(), "artifacts", "tokenizers"));
        File.WriteAllLines(Data,
        [
            """{"instruction": "What is the capital of France?", "output": "Paris"}""",
            """{"instruction": "中国最长的河流是哪一条？", "output": "长江"}""",
            """{"instruction": "What do bees make?", "output": "Honey"}""",
        ]);
    }

    private string Model => Path.Combine(_dir, "model");

    private string Data => Path.Combine(_dir, "qa.jsonl");

    public void Dispose()
    {
        _system.Dispose();
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Collects what the stage tells its requester; <paramref name="onProgress"/> sees each progress message as it comes.</summary>
    private sealed class Requester : ReceiveActor
    {
        public Requester(IActorRef stage, object request, ConcurrentQueue<StageProgress> progress, TaskCompletionSource<object> answer, Action<StageProgress>? onProgress)
        {
            Receive<StageProgress>(p =>
            {
                progress.Enqueue(p);
                onProgress?.Invoke(p);
            });
            ReceiveAny(m => answer.TrySetResult(m));
            stage.Tell(request, Self);
        }
    }

    private async Task<(object Answer, List<StageProgress> Progress)> Run(IActorRef stage, object request, Action<StageProgress>? onProgress = null)
    {
        var progress = new ConcurrentQueue<StageProgress>();
        var answer = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        _system.ActorOf(Props.Create(() => new Requester(stage, request, progress, answer, onProgress)));
        var result = await answer.Task.WaitAsync(Patience);
        return (result, progress.ToList());
    }

    private EvaluationRequest Request => new() { ModelDirectory = Model, DataFile = Data, MaxNewTokens = 2 };

    [Fact]
    public async Task Evaluates_ReportsProgress_AndStoresTheResultsWithTheRun()
    {
        var store = new RunStore(Path.Combine(_dir, "runs"));
        var output = Path.Combine(_dir, "output");
        store.Create("run-1", new JsonObject(), output);
        var stage = _system.ActorOf(EvaluatorStage.Props(s_plugins.Value, store), "evaluator");

        var (answer, progress) = await Run(stage, new StartEvaluation(Request, "run-1"));

        var finished = Assert.IsType<EvaluationFinished>(answer);
        Assert.Null(finished.Result.Tuned);
        Assert.Equal(3, finished.Result.Base.Validation.Rows);
        Assert.Equal(3, finished.Result.Base.Generation.Predictions.Count);
        Assert.Equal(Path.Combine(output, "eval.json"), finished.SavedTo);
        Assert.True(File.Exists(finished.SavedTo));
        Assert.Equal(finished.SavedTo, store.Get("run-1").EvaluationFile);
        Assert.All(progress, p => Assert.Equal("evaluator", p.Stage));
        Assert.Contains(progress, p => p.Message.Contains("base: held-out loss", StringComparison.Ordinal));
        Assert.Contains(progress, p => p.Message.StartsWith("base: generated", StringComparison.Ordinal) && p.Done == 3 && p.Total == 3);
    }

    [Fact]
    public async Task AMissingDataFile_AnswersAFailureNamingIt()
    {
        var stage = _system.ActorOf(EvaluatorStage.Props(s_plugins.Value));
        var missing = Path.Combine(_dir, "nope.jsonl");
        var (answer, _) = await Run(stage, new StartEvaluation(Request with { DataFile = missing }));
        var failure = Assert.IsType<Status.Failure>(answer);
        var e = Assert.IsType<DatasetException>(failure.Cause);
        Assert.Contains(missing, e.Message);
    }

    [Fact]
    public async Task Cancel_StopsTheEvaluation_WithOperationCanceled_AndASecondRequestWhileBusyIsRefused()
    {
        var stage = _system.ActorOf(EvaluatorStage.Props(s_plugins.Value));
        var refused = new TaskCompletionSource<Task<object>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = 0;
        // Work long enough that the cancel, which travels through two mailboxes, always lands inside it: 400 rows one
        // at a time (three rows could be done before the cancel arrived, once the tiny model loaded quickly).
        var many = Path.Combine(_dir, "many.jsonl");
        File.WriteAllLines(many, Enumerable.Range(0, 400).Select(i => $$"""{"instruction": "Count to {{i}}.", "output": "{{i}}"}"""));
        var request = Request with { DataFile = many, BatchSize = 1, MaxNewTokens = 16 };
        var (answer, _) = await Run(stage, new StartEvaluation(request), p =>
        {
            // Once work has begun: a second request is refused, then the first is cancelled. Both are handled while
            // the evaluation runs, so the stage's mailbox is not the thread doing the work. The first progress
            // message comes before the model loads (a second or more); the evaluator checks the token before every
            // batch and prompt after that, so the cancel always lands inside the work.
            if (Interlocked.Exchange(ref cancelled, 1) == 0)
            {
                refused.TrySetResult(stage.Ask<object>(new StartEvaluation(request), Patience));
                stage.Tell(CancelEvaluation.Instance);
            }
        });
        var failure = Assert.IsType<Status.Failure>(answer);
        Assert.IsAssignableFrom<OperationCanceledException>(failure.Cause);
        var second = await Assert.ThrowsAsync<InvalidOperationException>(async () => await await refused.Task.WaitAsync(Patience));
        Assert.Contains("already evaluating", second.Message);
    }
}
