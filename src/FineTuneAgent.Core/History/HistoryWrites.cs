using FineTuneAgent.Core.Training;
using Microsoft.Data.Sqlite;

namespace FineTuneAgent.Core.History;

/// <summary>
/// The history's write statements, each inside the caller's transaction. Only <see cref="HistoryWriter"/> and
/// the run-folder import call them, so every write in a process goes through one connection.
/// </summary>
internal static class HistoryWrites
{
    /// <summary>
    /// Inserts the run or replaces every field but its creation time (hashes and hardware given as null keep what
    /// was recorded: a re-import of run.json, which has none, must not erase them); a re-recorded run is no longer deleted.
    /// </summary>
    public static void UpsertRun(SqliteConnection c, SqliteTransaction t, HistoryRun run)
    {
        HistorySql.Execute(c, """
            INSERT INTO runs (id, created_at, updated_at, status, method, model_path, model_hash, dataset_hash, config_json,
                              hardware_json, output_dir, started_at, ended_at, error, summary_json)
            VALUES ($id, $created, $updated, $status, $method, $model, $model_hash, $dataset_hash, $config,
                    $hardware, $output, $started, $ended, $error, $summary)
            ON CONFLICT (id) DO UPDATE SET
                updated_at = excluded.updated_at, status = excluded.status, method = excluded.method,
                model_path = excluded.model_path, model_hash = coalesce(excluded.model_hash, runs.model_hash),
                dataset_hash = coalesce(excluded.dataset_hash, runs.dataset_hash), config_json = excluded.config_json,
                hardware_json = coalesce(excluded.hardware_json, runs.hardware_json), output_dir = excluded.output_dir,
                started_at = excluded.started_at, ended_at = excluded.ended_at, error = excluded.error,
                summary_json = excluded.summary_json;
            DELETE FROM deleted_runs WHERE id = $id;
            """, t,
            ("$id", run.Id), ("$created", HistorySql.Time(run.CreatedAt)), ("$updated", HistorySql.Time(run.UpdatedAt)),
            ("$status", HistorySql.Name(run.Status)), ("$method", run.Method), ("$model", run.ModelPath),
            ("$model_hash", run.ModelHash), ("$dataset_hash", run.DatasetHash), ("$config", HistorySql.Json(run.Config)),
            ("$hardware", HistorySql.Json(run.Hardware)), ("$output", run.OutputDirectory),
            ("$started", run.StartedAt is { } s ? HistorySql.Time(s) : null), ("$ended", run.EndedAt is { } e ? HistorySql.Time(e) : null),
            ("$error", run.Error), ("$summary", HistorySql.Json(run.Summary)));
    }

    /// <summary>
    /// Moves a run to <paramref name="status"/> at <paramref name="at"/>: running sets the start time once and
    /// clears the end and the error (a resumed run); completed, failed and cancelled set the end time.
    /// </summary>
    public static void UpdateStatus(SqliteConnection c, SqliteTransaction t, string runId, RunStatus status, string? error, System.Text.Json.Nodes.JsonObject? summary, DateTimeOffset at)
    {
        var running = status == RunStatus.Running;
        var changed = HistorySql.Execute(c, """
            UPDATE runs SET status = $status, updated_at = $at,
                started_at = CASE WHEN $running AND started_at IS NULL THEN $at ELSE started_at END,
                ended_at = CASE WHEN $running THEN NULL ELSE $at END,
                error = CASE WHEN $running THEN NULL ELSE $error END,
                summary_json = coalesce($summary, summary_json)
            WHERE id = $id
            """, t,
            ("$id", runId), ("$status", HistorySql.Name(status)), ("$at", HistorySql.Time(at)), ("$running", running),
            ("$error", error), ("$summary", HistorySql.Json(summary)));
        if (changed == 0)
            throw new KeyNotFoundException($"no run '{runId}' in the history to set {HistorySql.Name(status)}");
    }

    /// <summary>Names the run a write was for (the foreign key's own error does not).</summary>
    public static void RequireRun(SqliteConnection c, SqliteTransaction t, string runId, string what)
    {
        if (HistorySql.Scalar(c, "SELECT 1 FROM runs WHERE id = $id", t, ("$id", runId)) is null)
            throw new KeyNotFoundException($"no run '{runId}' in the history to record {what} for");
    }

    /// <summary>Appends metric rows in the order given (their row ids keep that order).</summary>
    public static void AppendMetrics(SqliteConnection c, SqliteTransaction t, string runId, IReadOnlyList<HistoryMetric> metrics)
    {
        RequireRun(c, t, runId, "metrics");
        using var command = HistorySql.Command(c, """
            INSERT INTO metrics (run_id, step, kind, loss, learning_rate, grad_norm, tokens_per_second, extra_json)
            VALUES ($run, $step, $kind, $loss, $lr, $grad, $tps, $extra)
            """, t, ("$run", runId), ("$step", 0), ("$kind", ""), ("$loss", null), ("$lr", null), ("$grad", null), ("$tps", null), ("$extra", null));
        command.Prepare();
        var p = command.Parameters;
        foreach (var m in metrics)
        {
            p["$step"].Value = m.Step;
            p["$kind"].Value = HistorySql.Name(m.Kind);
            p["$loss"].Value = Finite(m.Loss);
            p["$lr"].Value = Finite(m.LearningRate);
            p["$grad"].Value = Finite(m.GradNorm);
            p["$tps"].Value = Finite(m.TokensPerSecond);
            p["$extra"].Value = (object?)HistorySql.Json(m.Extra) ?? DBNull.Value;
            command.ExecuteNonQuery();
        }
    }

    /// <summary>SQLite stores NaN as NULL anyway; infinities would read back as ±1e999 text in JSON, so both become NULL.</summary>
    private static object Finite(double? value) => value is { } v && double.IsFinite(v) ? v : DBNull.Value;

    /// <summary>Drops the train and eval rows after <paramref name="step"/> (a resumed run repeats them); retries stay.</summary>
    public static int TruncateMetricsAfter(SqliteConnection c, SqliteTransaction t, string runId, int step) =>
        HistorySql.Execute(c, "DELETE FROM metrics WHERE run_id = $run AND step > $step AND kind <> 'retry'", t, ("$run", runId), ("$step", step));

    public static void RecordEvaluation(SqliteConnection c, SqliteTransaction t, string runId, System.Text.Json.Nodes.JsonObject results, string? source, DateTimeOffset at)
    {
        RequireRun(c, t, runId, "an evaluation");
        HistorySql.Execute(c, "INSERT INTO evaluations (run_id, created_at, source, results_json) VALUES ($run, $at, $source, $results)", t,
            ("$run", runId), ("$at", HistorySql.Time(at)), ("$source", source), ("$results", HistorySql.Json(results)));
    }

    /// <summary>One row per (run, kind, path): recording it again updates its hash and size.</summary>
    public static void RecordArtefact(SqliteConnection c, SqliteTransaction t, HistoryArtefact a)
    {
        RequireRun(c, t, a.RunId, $"the {a.Kind} artefact {a.Path}");
        HistorySql.Execute(c, """
            INSERT INTO artefacts (run_id, kind, path, sha256, bytes, created_at) VALUES ($run, $kind, $path, $sha, $bytes, $at)
            ON CONFLICT (run_id, kind, path) DO UPDATE SET sha256 = excluded.sha256, bytes = excluded.bytes, created_at = excluded.created_at
            """, t, ("$run", a.RunId), ("$kind", a.Kind), ("$path", a.Path), ("$sha", a.Sha256), ("$bytes", a.Bytes), ("$at", HistorySql.Time(a.CreatedAt)));
    }

    /// <summary>Deletes the run and, through the foreign keys, its metrics, evaluations and artefacts; remembers the id so an import does not bring it back.</summary>
    public static bool DeleteRun(SqliteConnection c, SqliteTransaction t, string runId, DateTimeOffset at)
    {
        var existed = HistorySql.Execute(c, "DELETE FROM runs WHERE id = $id", t, ("$id", runId)) > 0;
        HistorySql.Execute(c, "INSERT INTO deleted_runs (id, deleted_at) VALUES ($id, $at) ON CONFLICT (id) DO UPDATE SET deleted_at = excluded.deleted_at", t,
            ("$id", runId), ("$at", HistorySql.Time(at)));
        return existed;
    }

    public static void PutHardwareProfile(SqliteConnection c, SqliteTransaction t, HardwareProfileEntry p) =>
        HistorySql.Execute(c, """
            INSERT INTO hardware_profiles (name, profile_json, feasibility_json, estimator_version, updated_at)
            VALUES ($name, $profile, $feasibility, $version, $at)
            ON CONFLICT (name) DO UPDATE SET profile_json = excluded.profile_json, feasibility_json = excluded.feasibility_json,
                estimator_version = excluded.estimator_version, updated_at = excluded.updated_at
            """, t, ("$name", p.Name), ("$profile", HistorySql.Json(p.Profile)), ("$feasibility", HistorySql.Json(p.Feasibility)),
            ("$version", p.EstimatorVersion), ("$at", HistorySql.Time(p.UpdatedAt)));
}
