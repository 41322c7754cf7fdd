namespace FineTuneAgent.Core.History;

/// <summary>
/// The history's schema as ordered migrations. A database records each version it has applied in
/// <c>schema_version</c>; opening it applies the missing ones in order, each in its own transaction, so a
/// database is always at exactly one version. Never edit a migration that has shipped: add the next one.
/// </summary>
internal static class HistorySchema
{
    public sealed record Migration(int Version, string Description, string Sql);

    public static readonly IReadOnlyList<Migration> Migrations =
    [
        new(1, "runs and their per-step metrics", """
            CREATE TABLE schema_version (
                version     INTEGER PRIMARY KEY,
                applied_at  TEXT NOT NULL,
                description TEXT NOT NULL
            );
            CREATE TABLE runs (
                id           TEXT PRIMARY KEY,
                created_at   TEXT NOT NULL,
                updated_at   TEXT NOT NULL,
                status       TEXT NOT NULL,
                method       TEXT,
                model_path   TEXT,
                config_json  TEXT NOT NULL,
                output_dir   TEXT,
                started_at   TEXT,
                ended_at     TEXT,
                error        TEXT,
                summary_json TEXT
            );
            CREATE TABLE metrics (
                id                INTEGER PRIMARY KEY,
                run_id            TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                step              INTEGER NOT NULL,
                kind              TEXT NOT NULL,
                loss              REAL,
                learning_rate     REAL,
                grad_norm         REAL,
                tokens_per_second REAL,
                extra_json        TEXT
            );
            CREATE INDEX metrics_by_run ON metrics(run_id, id);
            """),
        new(2, "what a run is reproduced and audited by: model and dataset hashes, hardware, evaluations, artefacts", """
            ALTER TABLE runs ADD COLUMN model_hash TEXT;
            ALTER TABLE runs ADD COLUMN dataset_hash TEXT;
            ALTER TABLE runs ADD COLUMN hardware_json TEXT;
            CREATE INDEX runs_by_status ON runs(status, created_at);
            CREATE INDEX runs_by_method ON runs(method, created_at);
            CREATE TABLE evaluations (
                id           INTEGER PRIMARY KEY,
                run_id       TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                created_at   TEXT NOT NULL,
                source       TEXT,
                results_json TEXT NOT NULL
            );
            CREATE INDEX evaluations_by_run ON evaluations(run_id, id);
            CREATE TABLE artefacts (
                id         INTEGER PRIMARY KEY,
                run_id     TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                kind       TEXT NOT NULL,
                path       TEXT NOT NULL,
                sha256     TEXT,
                bytes      INTEGER,
                created_at TEXT NOT NULL,
                UNIQUE (run_id, kind, path)
            );
            """),
        new(3, "hardware profiles; deleted runs and imported run folders, so importing never brings back or repeats a run", """
            CREATE TABLE hardware_profiles (
                name              TEXT PRIMARY KEY,
                profile_json      TEXT NOT NULL,
                feasibility_json  TEXT,
                estimator_version TEXT,
                updated_at        TEXT NOT NULL
            );
            CREATE TABLE deleted_runs (
                id         TEXT PRIMARY KEY,
                deleted_at TEXT NOT NULL
            );
            CREATE TABLE run_folder_imports (
                run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
                folder TEXT NOT NULL,
                stamp  TEXT NOT NULL
            );
            """),
    ];

    /// <summary>The schema this build writes.</summary>
    public static int CurrentVersion => Migrations[^1].Version;
}
