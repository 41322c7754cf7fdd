using FineTuneAgent.Core;
using FineTuneAgent.Actors;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Agent.Stages;

/// <summary>
/// The trainer stage: runs <see cref="TrainingJob.Train"/> (new run or resume) on its own long-running task,
/// tells the requester every <see cref="TrainingEvent"/> as <see cref="TrainingProgress"/>, and answers
/// <see cref="TrainingFinished"/> or <see cref="Status.Failure"/> with the exception
/// (<see cref="TrainingOutOfMemoryException"/>, <see cref="TrainingDivergedException"/>,
/// <see cref="OperationCanceledException"/> after <see cref="CancelTraining"/>, anything else). One
/// training at a time; a second request while busy is refused. Stopping the stage cancels its training.
/// </summary>
public sealed class TrainerStage : ReceiveActor
{
    private readonly TrainingJob _job;
    private IActorRef? _requester;
    private CancellationTokenSource? _cancel;

    public TrainerStage(TrainingJob job)
    {
        _job = job;
        Receive<StartTraining>(start => Start(start.Plan.Request.RunId, (progress, token) => _job.Train(start.Plan, start.Data, start.Checkpoint, progress, token)));
        Receive<CancelTraining>(_ => _cancel?.Cancel());
        Receive<TrainingFinished>(done => Finish(done));
        Receive<Status.Failure>(failure => Finish(failure));
    }

    protected override void PostStop()
    {
        _cancel?.Cancel();
        base.PostStop();
    }

    private void Start(string runId, Func<IProgress<TrainingEvent>, CancellationToken, TrainingSummary> train)
    {
        if (_requester is not null)
        {
            Sender.Tell(new Status.Failure(new InvalidOperationException("the trainer stage is already training")));
            return;
        }
        var requester = _requester = Sender;
        var cancel = _cancel = new CancellationTokenSource();
        var progress = new SynchronousProgress<TrainingEvent>(e => requester.Tell(new TrainingProgress(runId, e)));
        Task.Factory.StartNew(() => new TrainingFinished(train(progress, cancel.Token)),
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
