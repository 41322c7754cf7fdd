using FineTuneAgent.Core;
using FineTuneAgent.Actors;
using FineTuneAgent.Core.Evaluation;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Agent.Stages;

/// <summary>
/// The evaluator stage: runs an <see cref="Evaluator"/> (held-out loss and perplexity, the forgetting check,
/// generation scored with BLEU/ROUGE/exact match, tokens/s and time to first token; base and tuned) on its own
/// long-running task, tells the requester each step as <see cref="StageProgress"/> ("evaluator"), stores the
/// results with the run when asked, and answers <see cref="EvaluationFinished"/> or <see cref="Status.Failure"/>
/// with the exception (a DatasetException naming file and line, an adapter for another model, an
/// OperationCanceledException after <see cref="CancelEvaluation"/>). One evaluation at a time; a second request
/// while busy is refused. Stopping the stage cancels its evaluation.
/// </summary>
public sealed class EvaluatorStage : ReceiveActor
{
    private readonly Evaluator _evaluator;
    private readonly RunStore? _store;
    private IActorRef? _requester;
    private CancellationTokenSource? _cancel;

    /// <param name="store">Where runs are recorded; needed only for requests that name a run.</param>
    public EvaluatorStage(PluginHost plugins, RunStore? store = null)
    {
        _evaluator = new Evaluator(plugins);
        _store = store;
        Receive<StartEvaluation>(Start);
        Receive<CancelEvaluation>(_ => _cancel?.Cancel());
        Receive<EvaluationFinished>(done => Finish(done));
        Receive<Status.Failure>(failure => Finish(failure));
    }

    public static Props Props(PluginHost plugins, RunStore? store = null) => Actors.Props.Create(() => new EvaluatorStage(plugins, store));

    protected override void PostStop()
    {
        _cancel?.Cancel();
        base.PostStop();
    }

    private void Start(StartEvaluation start)
    {
        if (_requester is not null)
        {
            Sender.Tell(new Status.Failure(new InvalidOperationException("the evaluator stage is already evaluating")));
            return;
        }
        if (start.RunId is not null && _store is null)
        {
            Sender.Tell(new Status.Failure(new InvalidOperationException($"run {start.RunId}: this evaluator stage has no run store to save results in")));
            return;
        }
        var requester = _requester = Sender;
        var cancel = _cancel = new CancellationTokenSource();
        var progress = new SynchronousProgress<EvaluationProgress>(p => requester.Tell(new StageProgress("evaluator", p.Message, p.Done, p.Total)));
        var store = _store;
        Task.Factory.StartNew(() =>
                {
                    var result = _evaluator.Run(start.Request, progress, cancel.Token);
                    var saved = start.RunId is { } id ? RunEvaluation.Save(store!, id, result) : null;
                    return new EvaluationFinished(result, saved);
                },
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            .PipeTo(Self);
    }

    private void Finish(object answer)
    {
        _requester?.Tell(answer);
        _requester = null;
        _cancel?.Dispose();
        _cancel = null;
    }
}
