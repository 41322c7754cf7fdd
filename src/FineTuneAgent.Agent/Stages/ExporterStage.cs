using FineTuneAgent.Core;
using FineTuneAgent.Actors;
using FineTuneAgent.Core.Export;
using FineTuneAgent.Core.History;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Agent.Stages;

/// <summary>
/// The exporter stage: writes a finished run's exports (PEFT adapter, merged checkpoint, GGUF, GGUF adapter), each
/// into &lt;output&gt;/export-&lt;format&gt;, on its own long-running task; tells the requester each tensor as
/// <see cref="StageProgress"/> ("exporter") and answers <see cref="ExportsFinished"/> or
/// <see cref="Status.Failure"/> with the exception (it names the file or tensor). One export request at a time.
/// </summary>
public sealed class ExporterStage : ReceiveActor
{
    private readonly PluginHost _plugins;
    private IActorRef? _requester;

    public ExporterStage(PluginHost plugins)
    {
        _plugins = plugins;
        Receive<StartExport>(Start);
        Receive<ExportsFinished>(Finish);
        Receive<Status.Failure>(Finish);
    }

    private void Start(StartExport start)
    {
        if (_requester is not null)
        {
            Sender.Tell(new Status.Failure(new InvalidOperationException("the exporter stage is already exporting")));
            return;
        }
        var requester = _requester = Sender;
        var plugins = _plugins;
        var progress = new SynchronousProgress<ExportProgress>(p => requester.Tell(new StageProgress("exporter",
            p.Message ?? $"{p.Phase} {p.Item}", p.Done, p.Total)));
        Task.Factory.StartNew(() =>
                {
                    var results = Exporter.ExportRun(start.Store, start.RunId, start.Export.Formats, start.Export.DType,
                        start.Export.Quant, plugins, Exporter.GgufWriter(plugins), progress);
                    var artefacts = start.DescribeForHistory
                        ? results.Select(r =>
                        {
                            progress.Report(ExportProgress.Say("hashing", $"hashing {r.OutputPath} for the run history"));
                            return HistoryArtefact.Describe(start.RunId, $"export-{ExportChoices.Name(r.Format)}", r.OutputPath, hash: true);
                        }).ToList()
                        : [];
                    return new ExportsFinished(results, artefacts);
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

/// <summary>ExporterStage: export the finished run <see cref="RunId"/> as <see cref="Export"/> asks.</summary>
public sealed record StartExport(RunStore Store, string RunId, ExportAfterTraining Export)
{
    /// <summary>Also describe each export for the run history: its size and SHA-256 (every byte read once more).</summary>
    public bool DescribeForHistory { get; init; }
}

/// <summary>ExporterStage's answer: what each format wrote, and (when asked) each export described for the history.</summary>
public sealed record ExportsFinished(IReadOnlyList<ExportResult> Results, IReadOnlyList<HistoryArtefact> Artefacts);
