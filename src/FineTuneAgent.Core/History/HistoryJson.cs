using System.Text.Json.Nodes;

namespace FineTuneAgent.Core.History;

/// <summary>History rows as snake_case JSON objects: what `fta runs --json` prints (and what an HTTP API can serve).</summary>
public static class HistoryJson
{
    /// <summary>A run; <paramref name="full"/> adds its configuration, hardware and summary.</summary>
    public static JsonObject Run(HistoryRun run, HistoryRunStats? stats = null, bool full = false)
    {
        ArgumentNullException.ThrowIfNull(run);
        var json = new JsonObject
        {
            ["id"] = run.Id,
            ["status"] = HistorySql.Name(run.Status),
            ["method"] = run.Method,
            ["model"] = run.ModelPath,
            ["model_hash"] = run.ModelHash,
            ["dataset_hash"] = run.DatasetHash,
            ["created_at"] = HistorySql.Time(run.CreatedAt),
            ["updated_at"] = HistorySql.Time(run.UpdatedAt),
            ["started_at"] = run.StartedAt is { } s ? HistorySql.Time(s) : null,
            ["ended_at"] = run.EndedAt is { } e ? HistorySql.Time(e) : null,
            ["output_dir"] = run.OutputDirectory,
            ["error"] = run.Error,
        };
        if (stats is not null)
            json["stats"] = Stats(stats);
        if (full)
        {
            json["config"] = run.Config.DeepClone();
            json["hardware"] = run.Hardware?.DeepClone();
            json["summary"] = run.Summary?.DeepClone();
        }
        return json;
    }

    public static JsonObject Stats(HistoryRunStats s) => new()
    {
        ["steps"] = s.Steps,
        ["first_train_loss"] = s.FirstTrainLoss,
        ["last_train_loss"] = s.LastTrainLoss,
        ["last_eval_loss"] = s.LastEvalLoss,
        ["best_eval_loss"] = s.BestEvalLoss,
        ["retries"] = s.Retries,
    };

    public static JsonObject Metric(HistoryMetric m) => new()
    {
        ["step"] = m.Step,
        ["kind"] = HistorySql.Name(m.Kind),
        ["loss"] = m.Loss,
        ["learning_rate"] = m.LearningRate,
        ["grad_norm"] = m.GradNorm,
        ["tokens_per_second"] = m.TokensPerSecond,
        ["extra"] = m.Extra?.DeepClone(),
    };

    public static JsonObject Evaluation(HistoryEvaluation e) => new()
    {
        ["created_at"] = HistorySql.Time(e.CreatedAt),
        ["source"] = e.Source,
        ["results"] = e.Results.DeepClone(),
    };

    public static JsonObject Artefact(HistoryArtefact a) => new()
    {
        ["kind"] = a.Kind,
        ["path"] = a.Path,
        ["sha256"] = a.Sha256,
        ["bytes"] = a.Bytes,
        ["created_at"] = HistorySql.Time(a.CreatedAt),
    };

    public static JsonObject Difference(ConfigDifference d) => new() { ["key"] = d.Key, ["a"] = d.A, ["b"] = d.B };

    public static JsonArray Array<T>(IEnumerable<T> items, Func<T, JsonObject> write) => new(items.Select(i => (JsonNode?)write(i)).ToArray());
}
