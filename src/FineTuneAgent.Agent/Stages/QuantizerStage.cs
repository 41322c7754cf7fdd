using FineTuneAgent.Core;
using FineTuneAgent.Actors;
using FineTuneAgent.Core.Quantization;

namespace FineTuneAgent.Agent.Stages;

/// <summary>
/// The quantizer stage (QLoRA): quantizes the base model's projections tensor by tensor into the on-disk cache
/// (or reads and checks the cached ones), on its own long-running task, reporting each tensor to the requester;
/// answers <see cref="BaseQuantized"/> or <see cref="Status.Failure"/>. Stopping the stage cancels the work
/// between tensors, before anything is written.
/// </summary>
public sealed class QuantizerStage : ReceiveActor
{
    private IActorRef? _requester;
    private CancellationTokenSource? _cancel;

    public QuantizerStage()
    {
        Receive<QuantizeBase>(Start);
        Receive<BaseQuantized>(done => Finish(done));
        Receive<Status.Failure>(failure => Finish(failure));
    }

    protected override void PostStop()
    {
        _cancel?.Cancel();
        base.PostStop();
    }

    private void Start(QuantizeBase request)
    {
        if (_requester is not null)
        {
            Sender.Tell(new Status.Failure(new InvalidOperationException("the quantizer stage is already quantizing a base")));
            return;
        }
        var requester = _requester = Sender;
        var cancel = _cancel = new CancellationTokenSource();
        var progress = new SynchronousProgress<QuantizationProgress>(p => requester.Tell(new StageProgress("quantizer",
            $"{(p.FromCache ? "read" : "quantized")} {p.Tensor}", p.Done, p.Total)));
        Task.Factory.StartNew(
                () => new BaseQuantized(QuantizedBase.EnsureCached(request.ModelDirectory, request.Scheme, request.CacheDirectory, request.ComputeDtype, progress, cancel.Token)),
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
