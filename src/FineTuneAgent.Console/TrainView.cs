using FineTuneAgent.Core;
using System.Globalization;
using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Core.Training;
using Spectre.Console;

namespace FineTuneAgent.Console;

/// <summary>
/// How `fta train` shows a run: a live Spectre progress display on a terminal, plain lines when the output
/// is redirected, or one JSON object per event line with --json. Every view ends with the summary.
/// </summary>
internal abstract class TrainView
{
    public static TrainView Create(bool json) =>
        json ? new JsonView() : System.Console.IsOutputRedirected ? new PlainView() : new LiveView();

    /// <summary>Runs the job with this view's progress sink.</summary>
    public abstract TrainingSummary Run(Func<IProgress<TrainingEvent>, TrainingSummary> job);

    public abstract void Finish(TrainingSummary summary);

    protected static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    protected static string Time(TimeSpan? t) => t is { } v ? (v.TotalHours >= 1 ? v.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : v.ToString(@"m\:ss", CultureInfo.InvariantCulture)) : "?";

    protected static string Line(TrainingEvent e) => e switch
    {
        StepCompleted s => $"step {s.Step}/{s.TotalSteps}  epoch {F(s.Epoch, "F2")}  loss {F(s.Loss, "F4")}  lr {F(s.LearningRate, "0.00e+0")}  grad_norm {F(s.GradNorm, "F3")}  {F(s.TokensPerSecond, "F0")} tok/s  elapsed {Time(s.Elapsed)}  eta {Time(s.Eta)}",
        EvaluationCompleted v => $"eval at step {v.Step}: loss {F(v.ValidationLoss, "F4")}{(v.IsBest ? " (best)" : $" ({v.EvaluationsWithoutImprovement} without improvement)")}",
        CheckpointSaved c => $"checkpoint {c.Path}",
        EarlyStopped x => $"early stopping at step {x.Step}: no better validation loss in {x.Patience} evaluations (best {F(x.BestValidationLoss, "F4")} at step {x.BestStep})",
        TrainingRetried r => $"out of memory at step {r.FailedStep}: retry {r.Attempt}/{r.MaxAttempts} from {(r.Checkpoint is null ? "the start" : $"step {r.FromStep}")} with per_device_train_batch_size {r.MicroBatchSize} and gradient_accumulation_steps {r.GradientAccumulationSteps}",
        JobMessage m => m.Text,
        StageStarted st => $"stage: {st.Stage}",
        StageProgressed sp => (sp.Message.StartsWith(sp.Stage + ":", StringComparison.Ordinal) ? sp.Message : $"{sp.Stage}: {sp.Message}")
            + (sp.Total > 0 ? $" ({sp.Done}/{sp.Total})" : ""),
        DatasetReady d => $"data ({d.Cache switch { CacheOutcome.Hit => "from the cache", CacheOutcome.Disabled => "not cached", _ => "prepared and cached" }}):\n"
            + d.Summary.Describe().TrimEnd(),
        QuantizedBaseReady q => $"quantized base: {q.Tensors} projections {q.Scheme}, {(q.FromCache ? "read from" : "quantized into")} {q.CacheFile}"
            + (q.CacheProblem is { } problem ? $" (the cache was rebuilt: {problem})" : ""),
        EvaluationReady v => $"evaluation on {v.Prompts} held-out prompts: loss {F(v.BaseLoss, "F4")} (base) → {(v.TunedLoss is { } t ? F(t, "F4") : "-")} (tuned)"
            + (v.ForgettingIncrease is { } f ? $", general-text loss {(f >= 0 ? "+" : "")}{F(f, "F4")}" : "")
            + $", ROUGE-L {F(v.BaseRougeL, "F1")} → {(v.TunedRougeL is { } r ? F(r, "F1") : "-")}; {v.File}",
        ExportReady x => $"exported {x.Format}: {x.Path}",
        _ => e.ToString(),
    };

    protected static IEnumerable<(string Name, string Value)> SummaryRows(TrainingSummary s)
    {
        string L(double? v) => v is { } d ? F(d, "F4") : "-";
        yield return ("run id", s.RunId);
        yield return ("method", s.Method + (s.MethodNote is null ? "" : " (auto)"));
        yield return ("steps", $"{s.Steps}/{s.TotalSteps}{(s.StoppedEarly ? " (stopped early)" : "")}");
        yield return ("train loss", $"{L(s.FirstTrainLoss)} → {L(s.LastTrainLoss)}");
        yield return ("validation loss", $"{L(s.FirstValidationLoss)} → {L(s.LastValidationLoss)} (best {L(s.BestValidationLoss)})");
        yield return ("rows", $"{s.TrainRows} train, {s.ValidationRows} validation");
        yield return ("output", s.OutputDirectory);
        yield return ("time", Time(s.Elapsed));
    }

    private sealed class JsonView : TrainView
    {
        public override TrainingSummary Run(Func<IProgress<TrainingEvent>, TrainingSummary> job) =>
            job(new SynchronousProgress<TrainingEvent>(e => System.Console.Out.WriteLine(TrainingEventJson.Write(e).ToJsonString())));

        public override void Finish(TrainingSummary summary) => System.Console.Out.WriteLine(summary.ToJson().ToJsonString());
    }

    private sealed class PlainView : TrainView
    {
        public override TrainingSummary Run(Func<IProgress<TrainingEvent>, TrainingSummary> job) =>
            job(new SynchronousProgress<TrainingEvent>(e => System.Console.Out.WriteLine(Line(e))));

        public override void Finish(TrainingSummary summary)
        {
            foreach (var (name, value) in SummaryRows(summary))
                System.Console.Out.WriteLine($"{name}: {value}");
        }
    }

    private sealed class LiveView : TrainView
    {
        private readonly IAnsiConsole _console = Terminal.Create();

        public override TrainingSummary Run(Func<IProgress<TrainingEvent>, TrainingSummary> job)
        {
            TrainingSummary? summary = null;
            _console.Progress()
                .AutoClear(false)
                .HideCompleted(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("preparing", maxValue: 1);
                    var stepsSeen = 0;
                    summary = job(new SynchronousProgress<TrainingEvent>(e =>
                    {
                        switch (e)
                        {
                            case StepCompleted s:
                                task.MaxValue = s.TotalSteps;
                                task.Value = s.Step;
                                task.Description = Markup.Escape($"step {s.Step}/{s.TotalSteps}  loss {F(s.Loss, "F4")}  lr {F(s.LearningRate, "0.00e+0")}  {F(s.TokensPerSecond, "F0")} tok/s  ETA {Time(s.Eta)}");
                                // A line every tenth of the run keeps the loss curve on screen.
                                if (stepsSeen++ == 0 || s.Step == s.TotalSteps || s.Step % Math.Max(1, s.TotalSteps / 10) == 0)
                                    _console.MarkupLine($"[grey]{Markup.Escape(Line(e))}[/]");
                                break;
                            case EvaluationCompleted:
                                _console.MarkupLine($"[blue]{Markup.Escape(Line(e))}[/]");
                                break;
                            case JobMessage:
                            case StageProgressed { Total: 0 }:
                                task.Description = Markup.Escape(Line(e).Length > 60 ? Line(e)[..60] + "…" : Line(e));
                                _console.MarkupLine(Markup.Escape(Line(e)));
                                break;
                            case StageStarted st:
                                task.MaxValue = 1; // each stage fills the bar from empty
                                task.Value = 0;
                                task.Description = Markup.Escape($"stage {st.Stage}");
                                break;
                            case StageProgressed p:
                                // Per-tensor progress moves the bar; a line only for the first and the last.
                                task.MaxValue = p.Total;
                                task.Value = p.Done;
                                task.Description = Markup.Escape($"{p.Stage} {p.Done}/{p.Total}");
                                if (p.Done == 1 || p.Done == p.Total)
                                    _console.MarkupLine($"[grey]{Markup.Escape(Line(e))}[/]");
                                break;
                            default:
                                _console.MarkupLine($"[grey]{Markup.Escape(Line(e))}[/]");
                                break;
                        }
                    }));
                    task.Value = task.MaxValue;
                    task.StopTask();
                });
            return summary!;
        }

        public override void Finish(TrainingSummary summary)
        {
            var table = new Table().Border(TableBorder.Rounded).AddColumn("run").AddColumn("");
            foreach (var (name, value) in SummaryRows(summary))
                table.AddRow(Markup.Escape(name), Markup.Escape(value));
            _console.Write(table);
        }
    }
}
