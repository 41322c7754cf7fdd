using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Core.Training;
using Spectre.Console;

namespace FineTuneAgent.Console.Tui;

/// <summary>
/// The new-run wizard: the model folder (or the built-in model), the dataset with a preview of its first rows and a
/// check of every row, the agent's recommendation with its reasons (preselected), the hyper-parameters to edit, and a
/// summary; Enter on the summary submits the run and opens its view.
/// </summary>
internal sealed class NewRunWizard(ConsoleData data) : Screen
{
    private enum Step { Model, Dataset, Recommendation, Parameters, Summary }

    private static readonly string[] s_methods = ["full", "freeze", "dora", "lora", "qlora"];
    private readonly TextInput _model = new();
    private readonly TextInput _dataset = new();
    private readonly TextInput _edit = new();
    private Step _step = Step.Model;
    private string? _error;
    private List<string> _preview = [];
    private JsonObject? _recommendation;
    private List<string> _reasons = [];
    private int _field;
    private bool _editing;

    /// <summary>The editable fields, LLaMA-Factory's names, with their values as text (validated when leaving the form).</summary>
    private readonly List<(string Key, string Label, string Value)> _fields =
    [
        ("method", "method", "full"),
        ("max_steps", "max steps", "60"),
        ("learning_rate", "learning rate", "1e-4"),
        ("per_device_train_batch_size", "micro-batch", "4"),
        ("gradient_accumulation_steps", "accumulation", "1"),
        ("cutoff_len", "cutoff length", "256"),
        ("r", "LoRA rank", "16"),
        ("val_size", "validation size", "0"),
        ("save_steps", "save every", "20"),
        ("gradient_checkpointing", "checkpointing", "false"),
    ];

    public override string Title => "new run: " + _step switch
    {
        Step.Model => "1/5 model",
        Step.Dataset => "2/5 dataset",
        Step.Recommendation => "3/5 recommendation",
        Step.Parameters => "4/5 hyper-parameters",
        _ => "5/5 summary",
    };

    public override string Keys => _step switch
    {
        Step.Parameters when _editing => "type the value · Enter keep · Esc undo",
        Step.Parameters => "↑↓ field · Enter edit · ←→ method · Tab next · Esc back",
        Step.Summary => "Enter start the run · Esc back",
        Step.Recommendation => "Enter use it · Esc back",
        _ => "type a path (empty: the default) · Enter next · Esc back",
    };

    public override IReadOnlyList<string> Render(ConsoleData _, int width, int height)
    {
        var lines = new List<string>();
        switch (_step)
        {
            case Step.Model:
                lines.Add("Model folder in Hugging Face layout, on the agent's machine (empty: the built-in tiny Qwen3, random weights):");
                lines.Add($"> [reverse]{Markup.Escape(_model.Text)} [/]");
                break;
            case Step.Dataset:
                lines.Add("Dataset file (.json/.jsonl, Alpaca or ShareGPT) (empty: the bundled English/Chinese samples):");
                lines.Add($"> [reverse]{Markup.Escape(_dataset.Text)} [/]");
                lines.AddRange(_preview);
                break;
            case Step.Recommendation:
                lines.Add(_recommendation is { } r && r["chosen"] is JsonObject chosen
                    ? $"[bold green]{Esc((string?)chosen["label"])}[/] on {Esc((string?)r["device"])}: micro-batch {chosen["per_device_train_batch_size"]} × {chosen["gradient_accumulation_steps"]}, checkpointing {((bool?)chosen["gradient_checkpointing"] == true ? "on" : "off")}"
                    : "[bold]full[/] (the built-in model)");
                foreach (var reason in _reasons)
                    foreach (var wrapped in Wrap(reason, width - 4))
                        lines.Add("  " + Markup.Escape(wrapped));
                break;
            case Step.Parameters:
                for (var i = 0; i < _fields.Count; i++)
                {
                    var (_, label, value) = _fields[i];
                    var shown = i == _field && _editing ? $"[reverse]{Markup.Escape(_edit.Text)} [/]" : Markup.Escape(value);
                    lines.Add((i == _field ? "[reverse]>[/] " : "  ") + Cells.Fit(label, 18) + " " + shown);
                }
                break;
            case Step.Summary:
                lines.Add($"model     {Markup.Escape(_model.Text.Length == 0 ? "built-in tiny Qwen3" : _model.Text)}");
                lines.Add($"dataset   {Markup.Escape(_dataset.Text.Length == 0 ? "bundled samples" : _dataset.Text)}");
                foreach (var (_, label, value) in _fields)
                    lines.Add(Cells.Fit(label, 18) + " " + Markup.Escape(value));
                lines.Add("[bold]Enter[/] submits the run to the agent.");
                break;
        }
        if (_error is not null)
            lines.Add($"[red]{Markup.Escape(_error)}[/]");
        return lines.Take(height).Select(l => l).ToList();
    }

    private static IEnumerable<string> Wrap(string text, int width)
    {
        while (text.Length > width)
        {
            var cut = text.LastIndexOf(' ', Math.Max(1, width - 1));
            cut = cut <= 0 ? width : cut;
            yield return text[..cut];
            text = text[cut..].TrimStart();
        }
        yield return text;
    }

    public override ScreenAction Handle(ConsoleKeyInfo key, ConsoleData _)
    {
        _error = null;
        switch (_step)
        {
            case Step.Model:
                if (key.Key == ConsoleKey.Escape)
                    return ScreenAction.Back;
                if (key.Key == ConsoleKey.Enter)
                    NextFromModel();
                else
                    _model.Handle(key);
                break;
            case Step.Dataset:
                if (key.Key == ConsoleKey.Escape)
                    _step = Step.Model;
                else if (key.Key == ConsoleKey.Enter)
                    NextFromDataset();
                else if (_dataset.Handle(key))
                    _preview = [];
                break;
            case Step.Recommendation:
                if (key.Key == ConsoleKey.Escape)
                    _step = Step.Dataset;
                else if (key.Key == ConsoleKey.Enter)
                    _step = Step.Parameters;
                break;
            case Step.Parameters:
                HandleParameters(key);
                break;
            case Step.Summary:
                if (key.Key == ConsoleKey.Escape)
                    _step = Step.Parameters;
                else if (key.Key == ConsoleKey.Enter)
                    return Submit();
                break;
        }
        return ScreenAction.Stay;
    }

    private void NextFromModel()
    {
        var dir = _model.Text.Trim();
        if (dir.Length > 0 && !File.Exists(Path.Combine(dir, "config.json")))
        {
            _error = $"{dir}: no config.json there (a model folder in Hugging Face layout)";
            return;
        }
        _step = Step.Dataset;
    }

    /// <summary>Checks the file: every row read (malformed ones counted with their line), the first rows shown; then asks for a recommendation.</summary>
    private void NextFromDataset()
    {
        var file = _dataset.Text.Trim();
        if (file.Length > 0)
        {
            if (!File.Exists(file))
            {
                _error = $"{file}: not found";
                return;
            }
            var bad = new List<DatasetException>();
            IReadOnlyList<RawRow> rows;
            try
            {
                rows = DatasetFileReader.Read(file, bad.Add);
            }
            catch (DatasetException e)
            {
                _error = e.Message;
                return;
            }
            _preview = [$"[bold]{rows.Count}[/] rows read, [bold]{bad.Count}[/] malformed{(bad.Count > 0 ? $" (first: {Markup.Escape(bad[0].Message)})" : "")}; the first rows:"];
            foreach (var row in rows.Take(3))
                _preview.Add("  " + Cells.Fit(row.Value.GetRawText().Replace('\n', ' '), 76));
            if (rows.Count == 0)
            {
                _error = $"{file}: no rows to train on";
                return;
            }
        }
        Recommend();
        _step = Step.Recommendation;
    }

    private void Recommend()
    {
        _recommendation = null;
        _reasons = [];
        var dir = _model.Text.Trim();
        if (dir.Length == 0)
        {
            _reasons = ["The built-in model has random weights: nothing for an adapter to preserve, so full fine-tuning shows the real learning curve (as `fta train --method auto`)."];
            Set("method", "full");
            return;
        }
        try
        {
            _recommendation = data.Client.Post("api/v1/recommend", new JsonObject { ["model"] = Path.GetFullPath(dir), ["seq_len"] = int.Parse(Get("cutoff_len")) });
            _reasons = (_recommendation["reasons"] as JsonArray ?? []).Select(r => (string?)r ?? "").ToList();
            if (_recommendation["chosen"] is JsonObject chosen)
            {
                Set("method", (string?)chosen["method"] ?? "lora");
                Set("per_device_train_batch_size", ((int?)chosen["per_device_train_batch_size"] ?? 1).ToString());
                Set("gradient_accumulation_steps", ((int?)chosen["gradient_accumulation_steps"] ?? 1).ToString());
                Set("gradient_checkpointing", ((bool?)chosen["gradient_checkpointing"] ?? false) ? "true" : "false");
                if (chosen["settings"]?["r"] is { } r)
                    Set("r", r.ToJsonString());
                Set("learning_rate", (string?)chosen["method"] is "full" or "freeze" ? "1e-5" : "1e-4");
            }
        }
        catch (Exception e) when (e is ArgumentException or AgentRequestException)
        {
            _reasons = [$"no recommendation: {e.Message}"];
        }
    }

    private string Get(string key) => _fields.First(f => f.Key == key).Value;

    private void Set(string key, string value)
    {
        var i = _fields.FindIndex(f => f.Key == key);
        _fields[i] = _fields[i] with { Value = value };
    }

    private void HandleParameters(ConsoleKeyInfo key)
    {
        if (_editing)
        {
            if (key.Key == ConsoleKey.Enter)
            {
                Set(_fields[_field].Key, _edit.Text.Trim());
                _editing = false;
            }
            else if (key.Key == ConsoleKey.Escape)
                _editing = false;
            else
                _edit.Handle(key);
            return;
        }
        switch (key.Key)
        {
            case ConsoleKey.UpArrow or ConsoleKey.K:
                _field = Math.Max(0, _field - 1);
                break;
            case ConsoleKey.DownArrow or ConsoleKey.J:
                _field = Math.Min(_fields.Count - 1, _field + 1);
                break;
            case ConsoleKey.LeftArrow or ConsoleKey.RightArrow when _fields[_field].Key == "method":
                var at = Array.IndexOf(s_methods, Get("method"));
                Set("method", s_methods[(at + (key.Key == ConsoleKey.RightArrow ? 1 : s_methods.Length - 1)) % s_methods.Length]);
                break;
            case ConsoleKey.Enter:
                _edit.Set(_fields[_field].Value);
                _editing = true;
                break;
            case ConsoleKey.Tab:
                if (Build(out var problem) is not null)
                    _step = Step.Summary;
                else
                    _error = problem;
                break;
            case ConsoleKey.Escape:
                _step = Step.Recommendation;
                break;
        }
    }

    /// <summary>The run as the API takes it, or null with the field that is wrong.</summary>
    private JsonObject? Build(out string? problem)
    {
        problem = null;
        try
        {
            var training = new JsonObject();
            foreach (var (key, label, value) in _fields.Where(f => f.Key is not ("method" or "r")))
            {
                if (key == "gradient_checkpointing")
                {
                    training[key] = bool.TryParse(value, out var b) ? b : throw new FormatException($"{label}: true or false, got \"{value}\"");
                    continue;
                }
                if (!double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d))
                    throw new FormatException($"{label}: a number, got \"{value}\"");
                if (key is "learning_rate" or "val_size")
                    training[key] = d;
                else if (d == Math.Floor(d) && Math.Abs(d) < int.MaxValue)
                    training[key] = (int)d;
                else
                    throw new FormatException($"{label}: a whole number, got \"{value}\"");
            }
            TrainingOptionsJson.Read(training.DeepClone().AsObject()).Validate();
            var method = Get("method");
            var run = new JsonObject { ["method"] = method, ["training"] = training };
            if (method is "lora" or "dora" or "qlora")
                run["method_settings"] = new JsonObject { ["r"] = int.TryParse(Get("r"), out var r) && r > 0 ? r : throw new FormatException($"LoRA rank: a whole number above 0, got \"{Get("r")}\"") };
            if (_model.Text.Trim() is { Length: > 0 } model)
                run["model"] = Path.GetFullPath(model);
            if (_dataset.Text.Trim() is { Length: > 0 } dataset)
                run["datasets"] = new JsonArray(Path.GetFullPath(dataset));
            return run;
        }
        catch (Exception e) when (e is FormatException or TrainingOptionsException or FineTuneAgent.Abstractions.Methods.MethodSettingsException or InvalidOperationException)
        {
            problem = e.Message;
            return null;
        }
    }

    private ScreenAction Submit()
    {
        if (Build(out var problem) is not { } run)
        {
            _error = problem;
            return ScreenAction.Stay;
        }
        try
        {
            var submitted = data.Client.Post("api/v1/runs", run);
            data.Refresh();
            return new ScreenAction.Replace(new RunScreen((string)submitted["run_id"]!) { Notice = $"[green]run {Esc((string?)submitted["run_id"])} submitted ({submitted["status"]})[/]" });
        }
        catch (Exception e) when (e is ArgumentException or AgentRequestException or JsonException)
        {
            _error = e.Message;
            return ScreenAction.Stay;
        }
    }
}
