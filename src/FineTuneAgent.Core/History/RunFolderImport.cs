using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Core.Training;
using Microsoft.Data.Sqlite;

namespace FineTuneAgent.Core.History;

/// <summary>
/// Brings the JSON run folders (<see cref="RunStore"/>: run.json and metrics.jsonl) into the history, one
/// transaction per run. A folder is re-read only when run.json or metrics.jsonl changed since its last import
/// (by size and modification time, remembered in <c>run_folder_imports</c>); its metrics then replace the ones
/// imported before. The folders themselves are only read.
/// </summary>
internal static class RunFolderImport
{
    public static RunFolderImportReport Import(HistoryStore store, SqliteConnection c, RunStore runs)
    {
        int imported = 0, unchanged = 0, deleted = 0;
        var problems = new List<string>();
        if (!Directory.Exists(runs.Folder))
            return new RunFolderImportReport(0, 0, 0, problems);
        foreach (var folder in Directory.EnumerateDirectories(runs.Folder).Order(StringComparer.Ordinal))
        {
            if (!File.Exists(Path.Combine(folder, RunStore.RecordFileName)))
                continue;
            var id = Path.GetFileName(folder);
            try
            {
                using var t = c.BeginTransaction(deferred: false);
                if (HistorySql.Scalar(c, "SELECT 1 FROM deleted_runs WHERE id = $id", t, ("$id", id)) is not null)
                {
                    deleted++;
                    continue;
                }
                var stamp = Stamp(folder);
                if (HistorySql.Scalar(c, "SELECT stamp FROM run_folder_imports WHERE run_id = $id", t, ("$id", id)) as string == stamp)
                {
                    unchanged++;
                    continue;
                }
                var record = runs.Get(id);
                if (record.Id != id)
                    throw new InvalidDataException($"{Path.Combine(folder, RunStore.RecordFileName)}: its id '{record.Id}' is not its folder's name '{id}'");
                Write(c, t, runs, record, folder, stamp, problems);
                t.Commit();
                imported++;
            }
            catch (SqliteException e) when (HistoryDatabaseException.IsDamage(e))
            {
                throw store.Translate(e);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                problems.Add(e.Message);
            }
        }
        return new RunFolderImportReport(imported, unchanged, deleted, problems);
    }

    private static void Write(SqliteConnection c, SqliteTransaction t, RunStore runs, RunRecord record, string folder, string stamp, List<string> problems)
    {
        HistoryWrites.UpsertRun(c, t, HistoryRun.FromRecord(record, runs));
        HistorySql.Execute(c, "DELETE FROM metrics WHERE run_id = $id", t, ("$id", record.Id));
        var metrics = runs.Metrics(record.Id).Select(HistoryMetric.FromEventJson).OfType<HistoryMetric>().ToList();
        HistoryWrites.AppendMetrics(c, t, record.Id, metrics);
        foreach (var checkpoint in record.Checkpoints)
            HistoryWrites.RecordArtefact(c, t, HistoryArtefact.Describe(record.Id, "checkpoint", checkpoint, hash: false) with { CreatedAt = record.UpdatedAt });
        if (record.EvaluationFile is { } evalFile && File.Exists(evalFile))
        {
            try
            {
                var results = JsonNode.Parse(File.ReadAllText(evalFile)) as JsonObject
                    ?? throw new InvalidDataException($"{evalFile}: not a JSON object");
                HistorySql.Execute(c, "DELETE FROM evaluations WHERE run_id = $id AND source = $source", t, ("$id", record.Id), ("$source", evalFile));
                HistoryWrites.RecordEvaluation(c, t, record.Id, results, evalFile, File.GetLastWriteTimeUtc(evalFile));
                HistoryWrites.RecordArtefact(c, t, HistoryArtefact.Describe(record.Id, "evaluation", evalFile, hash: true) with { CreatedAt = File.GetLastWriteTimeUtc(evalFile) });
            }
            catch (JsonException e)
            {
                problems.Add($"{evalFile}: malformed evaluation results ({e.Message}); run {record.Id} imported without them");
            }
        }
        HistorySql.Execute(c, """
            INSERT INTO run_folder_imports (run_id, folder, stamp) VALUES ($id, $folder, $stamp)
            ON CONFLICT (run_id) DO UPDATE SET folder = excluded.folder, stamp = excluded.stamp
            """, t, ("$id", record.Id), ("$folder", folder), ("$stamp", stamp));
    }

    /// <summary>Sizes and modification times of run.json and metrics.jsonl: any write to either changes it.</summary>
    private static string Stamp(string folder)
    {
        static string Of(string file) => File.Exists(file)
            ? $"{new FileInfo(file).Length}@{File.GetLastWriteTimeUtc(file).Ticks}"
            : "none";
        return $"{Of(Path.Combine(folder, RunStore.RecordFileName))};{Of(Path.Combine(folder, RunStore.MetricsFileName))}";
    }
}
