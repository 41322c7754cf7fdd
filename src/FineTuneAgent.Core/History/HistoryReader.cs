using System.Text;
using Microsoft.Data.Sqlite;

namespace FineTuneAgent.Core.History;

/// <summary>
/// Reads the history over a read-only connection of its own. In WAL mode it never waits for the writer and
/// each statement sees only committed transactions. Not thread-safe: one reader per thread.
/// </summary>
public sealed class HistoryReader : IDisposable
{
    private const string RunColumns = "id, created_at, updated_at, status, method, model_path, model_hash, dataset_hash, config_json, hardware_json, output_dir, started_at, ended_at, error, summary_json";

    private readonly HistoryStore _store;
    private readonly SqliteConnection _connection;

    internal HistoryReader(HistoryStore store, SqliteConnection connection)
    {
        _store = store;
        _connection = connection;
    }

    public void Dispose() => _connection.Dispose();

    /// <summary>The runs that pass <paramref name="filter"/>, newest first.</summary>
    public IReadOnlyList<HistoryRun> ListRuns(RunFilter? filter = null) => Read(() =>
    {
        filter ??= new RunFilter();
        var where = new List<string>();
        var parameters = new List<(string, object?)>();
        if (filter.Status is { } status)
        {
            where.Add("status = $status");
            parameters.Add(("$status", HistorySql.Name(status)));
        }
        if (filter.Method is { Length: > 0 } method)
        {
            where.Add("method = $method");
            parameters.Add(("$method", method.ToLowerInvariant()));
        }
        if (filter.Text is { Length: > 0 } text)
        {
            where.Add(@"(id LIKE $text ESCAPE '\' OR method LIKE $text ESCAPE '\' OR model_path LIKE $text ESCAPE '\' OR error LIKE $text ESCAPE '\' OR config_json LIKE $text ESCAPE '\')");
            parameters.Add(("$text", $"%{EscapeLike(text)}%"));
        }
        var sql = new StringBuilder($"SELECT {RunColumns} FROM runs");
        if (where.Count > 0)
            sql.Append(" WHERE ").AppendJoin(" AND ", where);
        sql.Append(" ORDER BY created_at DESC, id DESC");
        if (filter.Limit is { } limit)
        {
            sql.Append(" LIMIT $limit");
            parameters.Add(("$limit", limit));
        }
        return ReadRuns(sql.ToString(), [.. parameters]);
    });

    /// <summary>The run with that id, or null.</summary>
    public HistoryRun? FindRun(string id) => Read(() => ReadRuns($"SELECT {RunColumns} FROM runs WHERE id = $id", ("$id", id)).SingleOrDefault());

    /// <summary>
    /// The run with that id, or the one whose id starts with it (as git takes a short hash); throws
    /// <see cref="KeyNotFoundException"/> naming the database when there is none, or the candidates when several match.
    /// </summary>
    public HistoryRun GetRun(string idOrPrefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(idOrPrefix);
        if (FindRun(idOrPrefix) is { } exact)
            return exact;
        var matches = Read(() => ReadRuns($"SELECT {RunColumns} FROM runs WHERE id LIKE $prefix ESCAPE '\\' ORDER BY id", ("$prefix", EscapeLike(idOrPrefix) + "%")));
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new KeyNotFoundException($"no run '{idOrPrefix}' in {_store.DatabasePath} (`fta runs list` shows the runs there)"),
            _ => throw new KeyNotFoundException($"'{idOrPrefix}' is ambiguous in {_store.DatabasePath}: {string.Join(", ", matches.Select(r => r.Id))}"),
        };
    }

    /// <summary>A run's metric rows in the order they were written (optionally of one kind).</summary>
    public IReadOnlyList<HistoryMetric> Metrics(string runId, HistoryMetricKind? kind = null) => Read(() =>
    {
        using var command = HistorySql.Command(_connection, """
            SELECT step, kind, loss, learning_rate, grad_norm, tokens_per_second, extra_json FROM metrics
            WHERE run_id = $run AND ($kind IS NULL OR kind = $kind) ORDER BY id
            """, null, ("$run", runId), ("$kind", kind is { } k ? HistorySql.Name(k) : null));
        using var r = command.ExecuteReader();
        var result = new List<HistoryMetric>();
        var what = $"{_store.DatabasePath}: metrics of run {runId}";
        while (r.Read())
        {
            result.Add(new HistoryMetric(r.GetInt32(0), HistorySql.ParseKind(r.GetString(1), what), HistorySql.NullableDouble(r, 2),
                HistorySql.NullableDouble(r, 3), HistorySql.NullableDouble(r, 4), HistorySql.NullableDouble(r, 5),
                HistorySql.ParseObject(HistorySql.NullableText(r, 6), what)));
        }
        return result;
    });

    /// <summary>Steps, first/last training loss, last/best validation loss and retries of a run, from its metrics.</summary>
    public HistoryRunStats Stats(string runId) => Read(() =>
    {
        using var command = HistorySql.Command(_connection, """
            SELECT
                (SELECT count(DISTINCT step) FROM metrics WHERE run_id = $run AND kind = 'train'),
                (SELECT loss FROM metrics WHERE run_id = $run AND kind = 'train' ORDER BY id LIMIT 1),
                (SELECT loss FROM metrics WHERE run_id = $run AND kind = 'train' ORDER BY id DESC LIMIT 1),
                (SELECT loss FROM metrics WHERE run_id = $run AND kind = 'eval' ORDER BY id DESC LIMIT 1),
                (SELECT min(loss) FROM metrics WHERE run_id = $run AND kind = 'eval'),
                (SELECT count(*) FROM metrics WHERE run_id = $run AND kind = 'retry')
            """, null, ("$run", runId));
        using var r = command.ExecuteReader();
        r.Read();
        return new HistoryRunStats(r.GetInt32(0), HistorySql.NullableDouble(r, 1), HistorySql.NullableDouble(r, 2),
            HistorySql.NullableDouble(r, 3), HistorySql.NullableDouble(r, 4), r.GetInt32(5));
    });

    public IReadOnlyList<HistoryEvaluation> Evaluations(string runId) => Read(() =>
    {
        using var command = HistorySql.Command(_connection, "SELECT id, created_at, source, results_json FROM evaluations WHERE run_id = $run ORDER BY id", null, ("$run", runId));
        using var r = command.ExecuteReader();
        var result = new List<HistoryEvaluation>();
        while (r.Read())
        {
            result.Add(new HistoryEvaluation(r.GetInt64(0), runId, HistorySql.ParseTime(r.GetString(1)), HistorySql.NullableText(r, 2),
                HistorySql.ParseObject(r.GetString(3), $"{_store.DatabasePath}: evaluation {r.GetInt64(0)} of run {runId}")!));
        }
        return result;
    });

    public IReadOnlyList<HistoryArtefact> Artefacts(string runId) => Read(() =>
    {
        using var command = HistorySql.Command(_connection, "SELECT kind, path, sha256, bytes, created_at FROM artefacts WHERE run_id = $run ORDER BY id", null, ("$run", runId));
        using var r = command.ExecuteReader();
        var result = new List<HistoryArtefact>();
        while (r.Read())
        {
            result.Add(new HistoryArtefact(runId, r.GetString(0), r.GetString(1), HistorySql.NullableText(r, 2), HistorySql.NullableLong(r, 3))
            {
                CreatedAt = HistorySql.ParseTime(r.GetString(4)),
            });
        }
        return result;
    });

    /// <summary>Two runs (ids or unique prefixes) side by side.</summary>
    public RunComparison Compare(string a, string b)
    {
        var runA = GetRun(a);
        var runB = GetRun(b);
        return new RunComparison(runA, runB, Stats(runA.Id), Stats(runB.Id), Metrics(runA.Id), Metrics(runB.Id),
            ConfigDifference.Between(runA.Config, runB.Config));
    }

    public HardwareProfileEntry? GetHardwareProfile(string name) =>
        ReadProfiles("SELECT name, profile_json, feasibility_json, estimator_version, updated_at FROM hardware_profiles WHERE name = $name", ("$name", name)).SingleOrDefault();

    public IReadOnlyList<HardwareProfileEntry> ListHardwareProfiles() =>
        ReadProfiles("SELECT name, profile_json, feasibility_json, estimator_version, updated_at FROM hardware_profiles ORDER BY name");

    /// <summary>The highest migration applied to the database.</summary>
    public int SchemaVersion => Read(() => Convert.ToInt32(HistorySql.Scalar(_connection, "SELECT max(version) FROM schema_version"), System.Globalization.CultureInfo.InvariantCulture));

    private IReadOnlyList<HardwareProfileEntry> ReadProfiles(string sql, params (string, object?)[] parameters) => Read(() =>
    {
        using var command = HistorySql.Command(_connection, sql, null, parameters);
        using var r = command.ExecuteReader();
        var result = new List<HardwareProfileEntry>();
        while (r.Read())
        {
            var what = $"{_store.DatabasePath}: hardware profile {r.GetString(0)}";
            result.Add(new HardwareProfileEntry(r.GetString(0), HistorySql.ParseObject(r.GetString(1), what)!,
                HistorySql.ParseObject(HistorySql.NullableText(r, 2), what), HistorySql.NullableText(r, 3))
            {
                UpdatedAt = HistorySql.ParseTime(r.GetString(4)),
            });
        }
        return result;
    });

    private List<HistoryRun> ReadRuns(string sql, params (string, object?)[] parameters)
    {
        using var command = HistorySql.Command(_connection, sql, null, parameters);
        using var r = command.ExecuteReader();
        var result = new List<HistoryRun>();
        while (r.Read())
        {
            var id = r.GetString(0);
            var what = $"{_store.DatabasePath}: run {id}";
            DateTimeOffset? Time(int i) => r.IsDBNull(i) ? null : HistorySql.ParseTime(r.GetString(i));
            result.Add(new HistoryRun
            {
                Id = id,
                CreatedAt = HistorySql.ParseTime(r.GetString(1)),
                UpdatedAt = HistorySql.ParseTime(r.GetString(2)),
                Status = HistorySql.ParseStatus(r.GetString(3), what),
                Method = HistorySql.NullableText(r, 4),
                ModelPath = HistorySql.NullableText(r, 5),
                ModelHash = HistorySql.NullableText(r, 6),
                DatasetHash = HistorySql.NullableText(r, 7),
                Config = HistorySql.ParseObject(r.GetString(8), $"{what} config")!,
                Hardware = HistorySql.ParseObject(HistorySql.NullableText(r, 9), $"{what} hardware"),
                OutputDirectory = HistorySql.NullableText(r, 10),
                StartedAt = Time(11),
                EndedAt = Time(12),
                Error = HistorySql.NullableText(r, 13),
                Summary = HistorySql.ParseObject(HistorySql.NullableText(r, 14), $"{what} summary"),
            });
        }
        return result;
    }

    private static string EscapeLike(string text) => text.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_");

    /// <summary>Runs a read, reporting a damaged file with its path.</summary>
    private T Read<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (SqliteException e) when (HistoryDatabaseException.IsDamage(e))
        {
            throw HistoryDatabaseException.Damaged(_store.DatabasePath, e);
        }
    }
}
