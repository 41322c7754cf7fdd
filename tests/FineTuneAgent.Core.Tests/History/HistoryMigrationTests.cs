using System.Text.Json.Nodes;
using FineTuneAgent.Actors;
using FineTuneAgent.Core.History;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Core.Tests.History;

public sealed class HistoryMigrationTests : IDisposable
{
    private readonly HistoryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Open_NewFile_CreatesEveryTableAtTheCurrentVersion_InWalMode()
    {
        var store = HistoryStore.Open(_folder.Database);
        using (var reader = store.OpenReader())
            Assert.Equal(HistoryStore.CurrentSchemaVersion, reader.SchemaVersion);
        using var c = HistoryFolder.Raw(_folder.Database);
        Assert.Equal("wal", HistoryFolder.Scalar(c, "PRAGMA journal_mode"));
        foreach (var table in new[] { "runs", "metrics", "evaluations", "artefacts", "hardware_profiles", "deleted_runs", "run_folder_imports" })
            Assert.Equal(1L, HistoryFolder.Scalar(c, $"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'"));
        Assert.Equal(string.Join(",", Enumerable.Range(1, HistoryStore.CurrentSchemaVersion)),
            HistoryFolder.Scalar(c, "SELECT group_concat(version, ',') FROM (SELECT version FROM schema_version ORDER BY version)"));
    }

    [Fact]
    public async Task Open_Version1Database_MigratesToCurrent_AndKeepsItsRunsAndMetrics()
    {
        // A v1 history as the first schema wrote it: runs and metrics only, no hashes, evaluations or artefacts.
        using (var c = HistoryFolder.Raw(_folder.Database))
        {
            HistoryFolder.Execute(c, """
                PRAGMA journal_mode = WAL;
                CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL, description TEXT NOT NULL);
                INSERT INTO schema_version VALUES (1, '2026-01-01T00:00:00.0000000+00:00', 'runs and their per-step metrics');
                CREATE TABLE runs (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, status TEXT NOT NULL,
                    method TEXT, model_path TEXT, config_json TEXT NOT NULL, output_dir TEXT, started_at TEXT, ended_at TEXT,
                    error TEXT, summary_json TEXT);
                CREATE TABLE metrics (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    step INTEGER NOT NULL, kind TEXT NOT NULL, loss REAL, learning_rate REAL, grad_norm REAL,
                    tokens_per_second REAL, extra_json TEXT);
                CREATE INDEX metrics_by_run ON metrics(run_id, id);
                INSERT INTO runs VALUES ('old-run', '2026-01-01T10:00:00.0000000+00:00', '2026-01-01T11:00:00.0000000+00:00', 'completed',
                    'lora', '/models/qwen3', '{"run_id":"old-run","training":{"learning_rate":0.0001}}', '/out/old', '2026-01-01T10:00:00.0000000+00:00',
                    '2026-01-01T11:00:00.0000000+00:00', NULL, '{"steps":2}');
                INSERT INTO metrics (run_id, step, kind, loss, learning_rate) VALUES ('old-run', 1, 'train', 2.5, 0.0001), ('old-run', 2, 'train', 2.25, 0.0001);
                INSERT INTO metrics (run_id, step, kind, loss) VALUES ('old-run', 2, 'eval', 2.4);
                """);
        }

        var store = HistoryStore.Open(_folder.Database);

        using var reader = store.OpenReader();
        Assert.Equal(HistoryStore.CurrentSchemaVersion, reader.SchemaVersion);
        var run = reader.GetRun("old-run");
        Assert.Equal(RunStatus.Completed, run.Status);
        Assert.Equal("lora", run.Method);
        Assert.Equal("/models/qwen3", run.ModelPath);
        Assert.Equal(0.0001, (double)run.Config["training"]!["learning_rate"]!);
        Assert.Null(run.ModelHash); // a column v2 added: present, empty
        Assert.Equal(2, (int)run.Summary!["steps"]!);
        Assert.Equal(new double?[] { 2.5, 2.25, 2.4 }, reader.Metrics("old-run").Select(m => m.Loss));
        Assert.Equal(new HistoryRunStats(2, 2.5, 2.25, 2.4, 2.4, 0), reader.Stats("old-run"));

        // The tables later versions added work on the migrated database.
        using var system = ActorSystem.Create("migration-test");
        var writer = system.ActorOf(HistoryWriter.Props(store));
        await writer.Ask<HistoryProtocol.Written>(new HistoryProtocol.RecordEvaluation("old-run", new JsonObject { ["bleu"] = 1.0 }));
        await writer.Ask<HistoryProtocol.Written>(new HistoryProtocol.PutHardwareProfile(new HardwareProfileEntry("cpu-only", new JsonObject { ["ram_gb"] = 32 }, null, "1")));
        Assert.Equal(1.0, (double)reader.Evaluations("old-run").Single().Results["bleu"]!);
        Assert.Equal(32, (int)reader.GetHardwareProfile("cpu-only")!.Profile["ram_gb"]!);
    }

    [Fact]
    public void Open_Twice_AppliesNothingTheSecondTime()
    {
        HistoryStore.Open(_folder.Database);
        HistoryStore.Open(_folder.Database);
        using var c = HistoryFolder.Raw(_folder.Database);
        Assert.Equal((long)HistoryStore.CurrentSchemaVersion, HistoryFolder.Scalar(c, "SELECT count(*) FROM schema_version"));
    }
}
