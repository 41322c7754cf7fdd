using FineTuneAgent.Core.Training;
using Microsoft.Data.Sqlite;

namespace FineTuneAgent.Core.History;

/// <summary>
/// The run history: one SQLite file in WAL mode (readers never wait for the writer), foreign keys on, a busy
/// timeout for the moments two processes write. Opening checks the file before anything writes to it: a
/// damaged file, one written by a newer fta, or someone else's database is reported with its path and left
/// byte for byte as it was; otherwise the missing migrations are applied in order.
/// One writer: the <see cref="HistoryWriter"/> actor owns the write connection in a process; readers open
/// their own read-only connections (<see cref="OpenReader"/>).
/// </summary>
public sealed class HistoryStore
{
    public const string DefaultFileName = "history.db";

    /// <summary>How long a statement waits for another process's write lock before failing with "database is locked".</summary>
    private const int BusyTimeoutMilliseconds = 10_000;

    private HistoryStore(string path) => DatabasePath = path;

    public string DatabasePath { get; }

    /// <summary>The schema version this build reads and writes.</summary>
    public static int CurrentSchemaVersion => HistorySchema.CurrentVersion;

    /// <summary>Where the history of a runs folder lives: <c>&lt;runs&gt;/history.db</c>.</summary>
    public static string DefaultPath(string runsFolder) => Path.Combine(runsFolder, DefaultFileName);

    /// <summary>
    /// Opens (creating it if absent) and migrates the history at <paramref name="path"/>. Throws
    /// <see cref="HistoryDatabaseException"/> for a damaged, newer or foreign database, which is not touched.
    /// </summary>
    public static HistoryStore Open(string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        if (File.Exists(full) && new FileInfo(full).Length > 0)
        {
            HistoryFileCheck.ThrowIfDamaged(full);
            CheckVersionReadOnly(full);
        }
        var store = new HistoryStore(full);
        store.Migrate();
        return store;
    }

    /// <summary>A read-only connection of its own; dispose it when done.</summary>
    public HistoryReader OpenReader() => new(this, Connect(SqliteOpenMode.ReadOnly, DatabasePath));

    /// <summary>
    /// Imports <c>&lt;runs&gt;/&lt;id&gt;/run.json</c> and <c>metrics.jsonl</c> folders: new or changed folders
    /// are (re)written, unchanged ones and runs deleted from the history are skipped, so importing again is a no-op.
    /// </summary>
    public RunFolderImportReport ImportRunFolders(RunStore runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        using var connection = OpenWriteConnection();
        return RunFolderImport.Import(this, connection, runs);
    }

    /// <summary>The read-write connection; in a process, only <see cref="HistoryWriter"/> (and an import) hold one.</summary>
    internal SqliteConnection OpenWriteConnection() => Connect(SqliteOpenMode.ReadWrite, DatabasePath);

    /// <summary>What to throw for an SQLite failure: the path and the fact that the file was left alone, for damage.</summary>
    internal Exception Translate(SqliteException e) =>
        HistoryDatabaseException.IsDamage(e) ? HistoryDatabaseException.Damaged(DatabasePath, e) : e;

    private static SqliteConnection Connect(SqliteOpenMode mode, string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = mode,
            ForeignKeys = true,
            // A pooled connection would keep the file open after Dispose (and its WAL unmerged).
            Pooling = false,
            DefaultTimeout = BusyTimeoutMilliseconds / 1000,
        }.ToString());
        try
        {
            connection.Open();
            // WAL with synchronous=NORMAL: a commit survives the process being killed; a power cut may lose the
            // last commits but never corrupts the file.
            HistorySql.Execute(connection, $"PRAGMA busy_timeout = {BusyTimeoutMilliseconds}; PRAGMA synchronous = NORMAL;");
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Refuses, without writing, a database this build must not migrate.</summary>
    private static void CheckVersionReadOnly(string path)
    {
        try
        {
            using var connection = Connect(SqliteOpenMode.ReadOnly, path);
            var version = SchemaVersionOf(connection, null, path);
            if (version > HistorySchema.CurrentVersion)
                throw NewerSchema(path, version);
        }
        catch (SqliteException e) when (HistoryDatabaseException.IsDamage(e))
        {
            throw HistoryDatabaseException.Damaged(path, e);
        }
    }

    /// <summary>The highest applied migration; 0 for an empty database; refuses someone else's database.</summary>
    private static int SchemaVersionOf(SqliteConnection connection, SqliteTransaction? transaction, string path)
    {
        var tables = new List<string>();
        using (var command = HistorySql.Command(connection, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name", transaction))
        using (var reader = command.ExecuteReader())
            while (reader.Read())
                tables.Add(reader.GetString(0));
        if (tables.Count == 0)
            return 0;
        if (!tables.Contains("schema_version"))
            throw new HistoryDatabaseException(path, HistoryProblem.NotAHistory,
                $"not an fta history database (no schema_version table; tables: {string.Join(", ", tables)}); it was left untouched: give another --db");
        return Convert.ToInt32(HistorySql.Scalar(connection, "SELECT coalesce(max(version), 0) FROM schema_version", transaction) ?? 0L, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static HistoryDatabaseException NewerSchema(string path, int version) =>
        new(path, HistoryProblem.NewerSchema,
            $"written by a newer fta, schema v{version} > v{HistorySchema.CurrentVersion}; it was left untouched: use that fta, or give another --db");

    /// <summary>Switches to WAL and applies the missing migrations, each in its own IMMEDIATE transaction.</summary>
    private void Migrate()
    {
        try
        {
            using var connection = Connect(SqliteOpenMode.ReadWriteCreate, DatabasePath);
            HistorySql.Execute(connection, "PRAGMA journal_mode = WAL;");
            foreach (var migration in HistorySchema.Migrations)
            {
                using var transaction = connection.BeginTransaction(deferred: false);
                // Checked again inside the write lock: another process may have migrated meanwhile.
                var version = SchemaVersionOf(connection, transaction, DatabasePath);
                if (version > HistorySchema.CurrentVersion)
                    throw NewerSchema(DatabasePath, version);
                if (version >= migration.Version)
                    continue;
                HistorySql.Execute(connection, migration.Sql, transaction);
                HistorySql.Execute(connection, "INSERT INTO schema_version (version, applied_at, description) VALUES ($v, $at, $d)", transaction,
                    ("$v", migration.Version), ("$at", HistorySql.Time(DateTimeOffset.UtcNow)), ("$d", migration.Description));
                transaction.Commit();
            }
        }
        catch (SqliteException e) when (HistoryDatabaseException.IsDamage(e))
        {
            throw HistoryDatabaseException.Damaged(DatabasePath, e);
        }
    }
}
