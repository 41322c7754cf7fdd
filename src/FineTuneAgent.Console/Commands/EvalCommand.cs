using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FineTuneAgent.Core.Evaluation;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Training;
using Spectre.Console;

namespace FineTuneAgent.Console.Commands;

/// <summary>
/// `fta eval`: the base model and (with --adapter) the fine-tuned model on the same held-out rows, side by side:
/// loss and perplexity, the forgetting check on general text, generation scored with BLEU-4, ROUGE-1/2/L and exact
/// match, tokens/s and time to first token. --run stores eval.json with the run.
/// </summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Base model folder (Hugging Face layout).", Required = true };
        var adapter = new Option<string?>("--adapter") { Description = "What fine-tuning saved (a PEFT adapter, Freeze's tensors, a Full checkpoint), e.g. a run's output folder." };
        var data = new Option<string>("--data") { Description = "Held-out rows: .json/.jsonl, Alpaca or ShareGPT.", Required = true };
        var maxSamples = new Option<int?>("--max-samples") { Description = "Evaluate only the first N rows." };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Longest generated answer, in tokens.", DefaultValueFactory = _ => 128 };
        var cutoff = new Option<int>("--cutoff-len") { Description = "cutoff_len for the loss rows and the general text.", DefaultValueFactory = _ => 1024 };
        var template = new Option<string?>("--template") { Description = "Model template by name (default: from config.json's model_type)." };
        var generalText = new Option<string?>("--general-text") { Description = "The forgetting check's texts, {\"text\": ...} per line (default: the bundled English/Chinese set)." };
        var run = new Option<string?>("--run") { Description = "Store the results with this run (eval.json in its output folder)." };
        var runsDir = new Option<string?>("--runs-dir") { Description = "Where runs are recorded (default: FTA_RUNS_DIR or ~/.local/share/fta/runs)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (eval.json's content)." };
        var command = new Command("eval", "Evaluate a base model and a fine-tuned adapter side by side: loss, perplexity, forgetting, BLEU/ROUGE/exact match, speed.")
        {
            model, adapter, data, maxSamples, maxNew, cutoff, template, generalText, run, runsDir, json,
        };
        command.SetAction(parse =>
        {
            var request = new EvaluationRequest
            {
                ModelDirectory = Path.GetFullPath(parse.GetValue(model)!),
                AdapterDirectory = parse.GetValue(adapter) is { } a ? Path.GetFullPath(a) : null,
                DataFile = Path.GetFullPath(parse.GetValue(data)!),
                MaxSamples = parse.GetValue(maxSamples),
                MaxNewTokens = parse.GetValue(maxNew),
                CutoffLength = parse.GetValue(cutoff),
                Template = parse.GetValue(template),
                GeneralTextFile = parse.GetValue(generalText) is { } g ? Path.GetFullPath(g) : null,
            };
            request.Validate();
            var store = new RunStore(parse.GetValue(runsDir) ?? RunStore.DefaultFolder);
            var runId = parse.GetValue(run);
            if (runId is not null)
                store.Get(runId); // an unknown run fails now, not after minutes of evaluation

            using var plugins = PluginHost.Load();
            var result = new Evaluator(plugins).Run(request, new StderrProgress());
            var saved = runId is null ? null : RunEvaluation.Save(store, runId, result);
            if (parse.GetValue(json))
            {
                var output = result.ToJson();
                output["eval_file"] = saved;
                System.Console.WriteLine(output.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
            }
            else
            {
                Print(result, saved);
            }
            return 0;
        });
        return command;
    }

    private static void Print(EvaluationResult result, string? saved)
    {
        var console = Terminal.Create();
        var b = result.Base;
        var t = result.Tuned;
        var table = new Table().AddColumn("Metric").AddColumn(new TableColumn("Base").RightAligned());
        if (t is not null)
            table.AddColumn(new TableColumn($"Tuned ({result.Method})").RightAligned()).AddColumn(new TableColumn("Change").RightAligned());
        void Row(string name, Func<ModelEvaluation, double?> value, string format)
        {
            var cells = new List<string> { name, Text(value(b), format) };
            if (t is not null)
            {
                cells.Add(Text(value(t), format));
                cells.Add(value(b) is { } x && value(t) is { } y ? Signed(y - x, format) : "-");
            }
            table.AddRow(cells.Select(Markup.Escape).ToArray());
        }
        Row($"held-out loss ({b.Validation.Rows} rows, {b.Validation.Tokens:N0} tokens)", m => m.Validation.Loss, "F4");
        Row("held-out perplexity", m => m.Validation.Perplexity, "N2");
        Row($"general-text loss (forgetting, {b.GeneralText.Rows} texts)", m => m.GeneralText.Loss, "F4");
        Row("general-text perplexity", m => m.GeneralText.Perplexity, "N2");
        Row($"BLEU-4 ({b.Generation.Scores.Samples} prompts)", m => m.Generation.Scores.Bleu4, "F2");
        Row("ROUGE-1", m => m.Generation.Scores.Rouge1, "F2");
        Row("ROUGE-2", m => m.Generation.Scores.Rouge2, "F2");
        Row("ROUGE-L", m => m.Generation.Scores.RougeL, "F2");
        Row($"exact match ({b.Generation.Scores.ShortAnswers} short answers)", m => m.Generation.Scores.ExactMatch, "F2");
        Row("generation tokens/s", m => m.Generation.TokensPerSecond, "F1");
        Row("time to first token (ms)", m => m.Generation.TimeToFirstTokenMs, "F1");
        console.Write(table);
        console.WriteLine("BLEU-4 on characters and ROUGE on words (CJK per character) as LLaMA-Factory's predict, in percent; greedy decoding.");
        if (saved is not null)
            console.WriteLine($"results and predictions: {saved}");
    }

    private static string Signed(double change, string format) =>
        (change >= 0 ? "+" : "-") + Math.Abs(change).ToString(format, CultureInfo.InvariantCulture);

    private static string Text(double? value, string format) => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    /// <summary>Each phase's summary on stderr (not every row), so stdout stays the table or the JSON object.</summary>
    private sealed class StderrProgress : IProgress<EvaluationProgress>
    {
        public void Report(EvaluationProgress value)
        {
            if (value.Total == 0)
                System.Console.Error.WriteLine($"eval: {value.Message}");
        }
    }
}
