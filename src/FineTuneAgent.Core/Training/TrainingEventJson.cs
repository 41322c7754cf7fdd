using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Core.Datasets;

namespace FineTuneAgent.Core.Training;

/// <summary>
/// Training events as flat JSON objects with an "event" field: metrics.jsonl lines and `fta train --json` output.
/// <see cref="Read"/> inverts <see cref="Write"/> so a client can feed a remote run's events to the same views as
/// a local run.
/// </summary>
public static class TrainingEventJson
{
    public static JsonObject Write(TrainingEvent e) => e switch
    {
        StepCompleted s => new JsonObject
        {
            ["event"] = "step",
            ["step"] = s.Step,
            ["total_steps"] = s.TotalSteps,
            ["epoch"] = Math.Round(s.Epoch, 4),
            ["loss"] = s.Loss,
            ["learning_rate"] = s.LearningRate,
            ["grad_norm"] = s.GradNorm,
            ["tokens_per_second"] = Math.Round(s.TokensPerSecond, 1),
            ["elapsed_seconds"] = Math.Round(s.Elapsed.TotalSeconds, 3),
            ["eta_seconds"] = s.Eta is { } eta ? Math.Round(eta.TotalSeconds, 1) : null,
        },
        EvaluationCompleted v => new JsonObject
        {
            ["event"] = "eval",
            ["step"] = v.Step,
            ["eval_loss"] = v.ValidationLoss,
            ["is_best"] = v.IsBest,
            ["evals_without_improvement"] = v.EvaluationsWithoutImprovement,
        },
        CheckpointSaved c => new JsonObject { ["event"] = "checkpoint", ["step"] = c.Step, ["path"] = c.Path },
        EarlyStopped x => new JsonObject
        {
            ["event"] = "early_stopped",
            ["step"] = x.Step,
            ["patience"] = x.Patience,
            ["best_eval_loss"] = x.BestValidationLoss,
            ["best_step"] = x.BestStep,
        },
        // No "step" field: a resumed run drops metric lines after its checkpoint's step, and the retry must stay.
        TrainingRetried r => new JsonObject
        {
            ["event"] = "retry",
            ["attempt"] = r.Attempt,
            ["max_attempts"] = r.MaxAttempts,
            ["failed_step"] = r.FailedStep,
            ["from_step"] = r.FromStep,
            ["checkpoint"] = r.Checkpoint,
            ["per_device_train_batch_size"] = r.MicroBatchSize,
            ["gradient_accumulation_steps"] = r.GradientAccumulationSteps,
            ["reason"] = r.Reason,
        },
        JobMessage m => new JsonObject { ["event"] = "message", ["text"] = m.Text },
        StageStarted st => new JsonObject { ["event"] = "stage", ["stage"] = st.Stage },
        StageProgressed sp => new JsonObject { ["event"] = "stage_progress", ["stage"] = sp.Stage, ["message"] = sp.Message, ["done"] = sp.Done, ["total"] = sp.Total },
        DatasetReady d => Dataset(d),
        QuantizedBaseReady q => new JsonObject
        {
            ["event"] = "quantized_base",
            ["scheme"] = q.Scheme,
            ["tensors"] = q.Tensors,
            ["from_cache"] = q.FromCache,
            ["cache_file"] = q.CacheFile,
            ["cache_problem"] = q.CacheProblem,
        },
        EvaluationReady v => new JsonObject
        {
            ["event"] = "evaluation",
            ["file"] = v.File,
            ["base_loss"] = v.BaseLoss,
            ["tuned_loss"] = v.TunedLoss,
            ["forgetting_increase"] = v.ForgettingIncrease,
            ["base_rouge_l"] = v.BaseRougeL,
            ["tuned_rouge_l"] = v.TunedRougeL,
            ["prompts"] = v.Prompts,
        },
        ExportReady x => new JsonObject { ["event"] = "export", ["format"] = x.Format, ["path"] = x.Path },
        _ => throw new ArgumentException($"unknown training event {e.GetType().Name}", nameof(e)),
    };

    /// <summary>Per file: rows read, bad (with the first few messages), dropped by reason (snake_case, with where the first were), truncated, kept and used; then the split.</summary>
    private static JsonObject Dataset(DatasetReady d) => new()
    {
        ["event"] = "dataset",
        ["sources"] = new JsonArray(d.Summary.Sources.Select(s => (JsonNode)new JsonObject
        {
            ["name"] = s.Name,
            ["file"] = s.File,
            ["rows"] = s.Rows,
            ["bad_rows"] = s.BadRows,
            ["first_bad_rows"] = new JsonArray(s.FirstBadRows.Select(b => (JsonNode?)b).ToArray()),
            ["dropped"] = new JsonObject(s.Dropped.Select(x => KeyValuePair.Create(Name(x.Reason),
                (JsonNode?)new JsonObject { ["count"] = x.Count, ["first_at"] = new JsonArray(x.FirstAt.Select(a => (JsonNode?)a).ToArray()) }))),
            ["truncated"] = s.Truncated,
            ["kept"] = s.Kept,
            ["used"] = s.Used,
        }).ToArray()),
        ["train_examples"] = d.Summary.TrainExamples,
        ["validation_examples"] = d.Summary.ValidationExamples,
        ["train_rows"] = d.Summary.TrainSequences,
        ["validation_rows"] = d.Summary.ValidationSequences,
        ["train_tokens"] = d.Summary.TrainTokens,
        ["train_loss_tokens"] = d.Summary.TrainLossTokens,
        ["cache"] = Name(d.Cache),
        ["warnings"] = new JsonArray(d.Summary.Warnings.Select(w => (JsonNode?)w).ToArray()),
    };

    /// <summary>
    /// The event <paramref name="json"/> holds, as <see cref="Write"/> wrote it: a remote run's events, parsed from
    /// text, become the same records a local run reports. Numbers come back as the JSON says (Write rounds epoch,
    /// tokens/s and the times); keys Read does not know are ignored, so a newer writer may add fields.
    /// </summary>
    /// <exception cref="InvalidDataException">"event" is missing or names no known event, or a field is missing or of the wrong type; the message names the event and the field.</exception>
    public static TrainingEvent Read(JsonObject json)
    {
        var name = EventName(json);
        return Read(json, name) ?? throw new InvalidDataException($"unknown training event \"{name}\"");
    }

    /// <summary>
    /// As <see cref="Read"/>, but null for an event name this version does not know, so a client can skip the
    /// events of a newer agent and show the rest; a known event with a bad field still throws.
    /// </summary>
    /// <exception cref="InvalidDataException">"event" is missing or not a string, or a known event has a missing or wrongly typed field.</exception>
    public static TrainingEvent? TryRead(JsonObject json) => Read(json, EventName(json));

    private static string EventName(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return new Fields(json, "training").String("event");
    }

    private static TrainingEvent? Read(JsonObject json, string name)
    {
        var f = new Fields(json, name);
        return name switch
        {
            "step" => new StepCompleted(f.Int("step"), f.Int("total_steps"), f.Double("epoch"), f.Double("loss"), f.Double("learning_rate"),
                f.Double("grad_norm"), f.Double("tokens_per_second"), f.Seconds("elapsed_seconds"), f.NullableSeconds("eta_seconds")),
            "eval" => new EvaluationCompleted(f.Int("step"), f.Double("eval_loss"), f.Bool("is_best"), f.Int("evals_without_improvement")),
            "checkpoint" => new CheckpointSaved(f.Int("step"), f.String("path")),
            "early_stopped" => new EarlyStopped(f.Int("step"), f.Int("patience"), f.Double("best_eval_loss"), f.Int("best_step")),
            "retry" => new TrainingRetried(f.Int("attempt"), f.Int("max_attempts"), f.Int("failed_step"), f.Int("from_step"), f.NullableString("checkpoint"),
                f.Int("per_device_train_batch_size"), f.Int("gradient_accumulation_steps"), f.String("reason")),
            "message" => new JobMessage(f.String("text")),
            "stage" => new StageStarted(f.String("stage")),
            "stage_progress" => new StageProgressed(f.String("stage"), f.String("message"), f.Int("done"), f.Int("total")),
            "dataset" => ReadDataset(f),
            "quantized_base" => new QuantizedBaseReady(f.String("scheme"), f.Int("tensors"), f.Bool("from_cache"), f.String("cache_file"), f.NullableString("cache_problem")),
            "evaluation" => new EvaluationReady(f.String("file"), f.Double("base_loss"), f.NullableDouble("tuned_loss"), f.NullableDouble("forgetting_increase"),
                f.Double("base_rouge_l"), f.NullableDouble("tuned_rouge_l"), f.Int("prompts")),
            "export" => new ExportReady(f.String("format"), f.String("path")),
            _ => null,
        };
    }

    /// <summary>The inverse of <see cref="Dataset"/>: drop reasons and the cache outcome by the names Write gives them.</summary>
    private static DatasetReady ReadDataset(Fields f)
    {
        var sources = f.Objects("sources", s => new SourceSummary(
            s.String("name"),
            s.String("file"),
            s.Int("rows"),
            s.Int("bad_rows"),
            s.Strings("first_bad_rows"),
            s.Entries("dropped", (reason, d) => new DropCount(
                s_reasons.TryGetValue(reason, out var r) ? r : throw s.Error("dropped", $"has an unknown reason \"{reason}\" (known: {string.Join(", ", s_reasons.Keys)})"),
                d.Int("count"),
                d.Strings("first_at"))),
            s.Int("truncated"),
            s.Int("kept"),
            s.Int("used")));
        var summary = new DatasetSummary(sources, f.Int("train_examples"), f.Int("validation_examples"), f.Int("train_rows"), f.Int("validation_rows"),
            f.Long("train_tokens"), f.Long("train_loss_tokens"), f.Strings("warnings"));
        var cache = f.String("cache");
        return new DatasetReady(summary,
            s_caches.TryGetValue(cache, out var c) ? c : throw f.Error("cache", $"must be one of {string.Join(", ", s_caches.Keys)}, got \"{cache}\""));
    }

    private static string Name(DropReason reason) => JsonNamingPolicy.SnakeCaseLower.ConvertName(reason.ToString());

    private static string Name(CacheOutcome cache) => cache.ToString().ToLowerInvariant();

    // From the same Name functions Write uses, so a reason or outcome added to the enum reads back without an edit here.
    private static readonly Dictionary<string, DropReason> s_reasons = Enum.GetValues<DropReason>().ToDictionary(Name);
    private static readonly Dictionary<string, CacheOutcome> s_caches = Enum.GetValues<CacheOutcome>().ToDictionary(Name);

    /// <summary>
    /// One object's fields, read strictly: every field must be present (null only where the record's field is
    /// nullable), numbers must be JSON numbers and not strings. Errors name the event and the field's path
    /// ("sources[0].dropped.too_long.count"). Works on parsed JSON and on objects built in code alike: numbers are
    /// read from their JSON text, whatever CLR type backs the node. Not <see cref="FineTuneAgent.Abstractions.Methods.SettingsReader"/>:
    /// that one takes numeric strings and falls back to defaults, as user settings should and an event must not.
    /// </summary>
    private sealed class Fields(JsonObject json, string eventName, string path = "")
    {
        public int Int(string field) =>
            Number(Node(field)) is { } text && int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i) ? i : throw Wrong(field, "an integer");

        public long Long(string field) =>
            Number(Node(field)) is { } text && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) ? l : throw Wrong(field, "an integer");

        public double Double(string field) => Finite(Node(field)) ?? throw Wrong(field, "a number");

        public double? NullableDouble(string field) => Node(field) is { } node ? Finite(node) ?? throw Wrong(field, "a number or null") : null;

        public TimeSpan Seconds(string field) => Duration(Double(field)) ?? throw Wrong(field, "a number of seconds within TimeSpan's range");

        public TimeSpan? NullableSeconds(string field) =>
            NullableDouble(field) is { } s ? Duration(s) ?? throw Wrong(field, "a number of seconds within TimeSpan's range, or null") : null;

        public bool Bool(string field) =>
            Node(field) is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? v.GetValue<bool>() : throw Wrong(field, "true or false");

        public string String(string field) => Text(Node(field)) ?? throw Wrong(field, "a string");

        public string? NullableString(string field) => Node(field) is { } node ? Text(node) ?? throw Wrong(field, "a string or null") : null;

        public IReadOnlyList<string> Strings(string field) =>
            Array(field).Select((n, i) => Text(n) ?? throw Error($"{field}[{i}]", $"must be a string, got {Got(n)}")).ToList();

        public IReadOnlyList<T> Objects<T>(string field, Func<Fields, T> read) =>
            Array(field).Select((n, i) => n is JsonObject o
                ? read(new Fields(o, eventName, $"{path}{field}[{i}]."))
                : throw Error($"{field}[{i}]", $"must be an object, got {Got(n)}")).ToList();

        /// <summary>An object's entries in their order, each value an object.</summary>
        public IReadOnlyList<T> Entries<T>(string field, Func<string, Fields, T> read) =>
            (Node(field) as JsonObject ?? throw Wrong(field, "an object")).Select(p => p.Value is JsonObject o
                ? read(p.Key, new Fields(o, eventName, $"{path}{field}.{p.Key}."))
                : throw Error($"{field}.{p.Key}", $"must be an object, got {Got(p.Value)}")).ToList();

        public InvalidDataException Error(string field, string message) => new($"{eventName} event: \"{path}{field}\" {message}");

        private JsonArray Array(string field) => Node(field) as JsonArray ?? throw Wrong(field, "a list");

        private JsonNode? Node(string field) =>
            json.TryGetPropertyValue(field, out var node) ? node : throw new InvalidDataException($"{eventName} event: missing \"{path}{field}\"");

        private InvalidDataException Wrong(string field, string expected) => Error(field, $"must be {expected}, got {Got(json[field])}");

        private static string Got(JsonNode? node) => node?.ToJsonString() ?? "null";

        private static string? Number(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? v.ToJsonString() : null;

        private static double? Finite(JsonNode? node) =>
            Number(node) is { } text && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d : null;

        private static string? Text(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

        // To the nearest tick: TimeSpan.FromSeconds(double) truncates, turning a written 0.043 s into 429,999 ticks.
        private static TimeSpan? Duration(double seconds) =>
            Math.Round(seconds * TimeSpan.TicksPerSecond) is var ticks && Math.Abs(ticks) < long.MaxValue ? TimeSpan.FromTicks((long)ticks) : null;
    }
}
