using FineTuneAgent.Actors;
using FineTuneAgent.Core.Datasets;

namespace FineTuneAgent.Agent.Stages;

/// <summary>
/// The dataset stage: prepares a training set on its own long-running task (tokenizing is seconds
/// to minutes of CPU), reports progress to the requester and answers with
/// <see cref="DatasetPrepared"/>, or with <see cref="Status.Failure"/> carrying the
/// <see cref="DatasetException"/> that names the file and line. One request at a time; a second
/// while busy is refused, not queued behind minutes of work.
/// </summary>
public sealed class DatasetStage : ReceiveActor
{
    private IActorRef? _requester;

    public DatasetStage()
    {
        Receive<PrepareDataset>(Start);
        Receive<DatasetPrepared>(done => Finish(done));
        Receive<Status.Failure>(failure => Finish(failure));
    }

    private void Start(PrepareDataset request)
    {
        if (_requester is not null)
        {
            Sender.Tell(new Status.Failure(new InvalidOperationException("the dataset stage is already preparing a dataset")));
            return;
        }
        var requester = _requester = Sender;
        Task.Factory.StartNew(
                () =>
                {
                    void Report(string message) => requester.Tell(new StageProgress("dataset", message));
                    var prepared = request.Tokenizer is { } tokenizer
                        ? DatasetPipeline.Prepare(request.Request, tokenizer, request.Format, DatasetPipeline.TokenizerFiles(request.ModelDirectory), Report)
                        : DatasetPipeline.Prepare(request.Request, request.ModelDirectory, request.Format, Report);
                    return new DatasetPrepared(prepared);
                },
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            .PipeTo(Self);
    }

    private void Finish(object answer)
    {
        _requester?.Tell(answer);
        _requester = null;
    }
}
