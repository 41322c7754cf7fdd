using FineTuneAgent.Actors;
using FineTuneAgent.Core.Quantization;

namespace FineTuneAgent.Agent.Stages;

/// <summary>
/// The quantizer stage (QLoRA): loads the base model with its projections quantized tensor by
/// tensor through the on-disk cache, on its own long-running task, reporting each tensor to the
/// requester; answers <see cref="BaseQuantized"/> or <see cref="Status.Failure"/>.
/// </summary>
public sealed class QuantizerStage : ReceiveActor
{
    private IActorRef? _requester;

    public QuantizerStage()
    {
        Receive<QuantizeBase>(Start);
        Receive<BaseQuantized>(done => Finish(done));
        Receive<Status.Failure>(failure => Finish(failure));
    }

    private void Start(QuantizeBase request)
    {
        if (_requester is not null)
        {
            Sender.Tell(new Status.Failure(new InvalidOperationException("the quantizer stage is already quantizing a base")));
            return;
        }
        var requester = _requester = Sender;
        var progress = new ForwardingProgress(p => requester.Tell(new StageProgress("quantizer",
            $"{(p.FromCache ? "read" : "quantized")} {p.Tensor}", p.Done, p.Total)));
        Task.Factory.StartNew(
                () => new BaseQuantized(QuantizedBase.Load(request.ModelDirectory, request.Scheme, request.ComputeDtype, request.CacheDirectory, progress)),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            .PipeTo(Self);
    }

    private void Finish(object answer)
    {
        _requester?.Tell(answer);
        _requester = null;
    }

    /// <summary>Reports synchronously on the working thread (Progress&lt;T&gt; would post to a context).</summary>
    private sealed class ForwardingProgress(Action<QuantizationProgress> report) : IProgress<QuantizationProgress>
    {
        public void Report(QuantizationProgress value) => report(value);
    }
}
