using FineTuneAgent.Core;
using System.Text.Json.Nodes;
using FineTuneAgent.Core.Export;
using Spectre.Console;

namespace FineTuneAgent.Console;

/// <summary>
/// How an export shows its progress, tensor by tensor: a Spectre progress bar on a terminal, a plain
/// line per step when the output is redirected, or one JSON object per line with --json. Each view
/// ends with what was written.
/// </summary>
internal abstract class ExportView
{
    public static ExportView Create(bool json) =>
        json ? new JsonView() : System.Console.IsOutputRedirected ? new PlainView() : new LiveView();

    public abstract ExportResult Run(Func<IProgress<ExportProgress>, ExportResult> export);

    public abstract void Finish(ExportResult result);

    protected static string Line(ExportProgress p) =>
        p.Message ?? $"{p.Phase} {p.Done}/{p.Total} {p.Item}";

    protected static string Summary(ExportResult r) =>
        $"exported {r.Format.ToString().ToLowerInvariant()}{(r.Method is null ? "" : $" ({r.Method})")} to {r.OutputPath}: {string.Join(", ", r.Files)}";

    private sealed class JsonView : ExportView
    {
        public override ExportResult Run(Func<IProgress<ExportProgress>, ExportResult> export) =>
            export(new SynchronousProgress<ExportProgress>(p => System.Console.Out.WriteLine(new JsonObject
            {
                ["event"] = "progress",
                ["phase"] = p.Phase,
                ["item"] = p.Item,
                ["done"] = p.Done,
                ["total"] = p.Total,
                ["message"] = p.Message,
            }.ToJsonString())));

        public override void Finish(ExportResult result) => System.Console.Out.WriteLine(result.ToJson().ToJsonString());
    }

    private sealed class PlainView : ExportView
    {
        public override ExportResult Run(Func<IProgress<ExportProgress>, ExportResult> export) =>
            export(new SynchronousProgress<ExportProgress>(p => System.Console.Out.WriteLine(Line(p))));

        public override void Finish(ExportResult result) => System.Console.Out.WriteLine(Summary(result));
    }

    private sealed class LiveView : ExportView
    {
        private readonly IAnsiConsole _console = Terminal.Create();

        public override ExportResult Run(Func<IProgress<ExportProgress>, ExportResult> export)
        {
            ExportResult? result = null;
            _console.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    ProgressTask? task = null;
                    result = export(new SynchronousProgress<ExportProgress>(p =>
                    {
                        if (p.Message is not null)
                        {
                            _console.MarkupLine(Markup.Escape(p.Message));
                            return;
                        }
                        // One bar per phase (merge, write, copy), advanced tensor by tensor.
                        if (task is null || task.Description.Split(' ')[0] != p.Phase)
                        {
                            task?.StopTask();
                            task = ctx.AddTask(p.Phase, maxValue: Math.Max(1, p.Total));
                        }
                        task.Value = p.Done;
                        var item = p.Item is { Length: > 48 } long_ ? "…" + long_[^47..] : p.Item;
                        task.Description = Markup.Escape($"{p.Phase} {p.Done}/{p.Total} {item}");
                    }));
                    task?.StopTask();
                });
            return result!;
        }

        public override void Finish(ExportResult result) => _console.MarkupLine($"[green]{Markup.Escape(Summary(result))}[/]");
    }
}
