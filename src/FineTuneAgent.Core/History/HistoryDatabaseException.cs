using Microsoft.Data.Sqlite;

namespace FineTuneAgent.Core.History;

/// <summary>Why a history database cannot be used as it is.</summary>
public enum HistoryProblem
{
    /// <summary>Not an SQLite file, cut short, or with pages SQLite reads as malformed.</summary>
    Damaged,

    /// <summary>Written by a newer fta whose schema this build does not know.</summary>
    NewerSchema,

    /// <summary>An SQLite database, but someone else's (tables and no schema_version).</summary>
    NotAHistory,
}

/// <summary>
/// A history database that fta will not touch: the message names the file and what is wrong; the file is
/// left exactly as it was (it is never rewritten, moved or deleted), so the user can inspect or restore it.
/// <see cref="Problem"/> lets a caller decide on data, not message text.
/// </summary>
public sealed class HistoryDatabaseException(string path, HistoryProblem problem, string message, Exception? inner = null)
    : IOException($"{path}: {message}", inner)
{
    public string DatabasePath { get; } = path;

    public HistoryProblem Problem { get; } = problem;

    // SQLITE_CORRUPT and SQLITE_NOTADB: what SQLite answers for a malformed page or a file that is not a database.
    private const int SqliteCorrupt = 11;
    private const int SqliteNotADatabase = 26;

    internal static bool IsDamage(SqliteException e) =>
        (e.SqliteErrorCode & 0xff) is SqliteCorrupt or SqliteNotADatabase;

    internal static HistoryDatabaseException Damaged(string path, SqliteException e) =>
        new(path, HistoryProblem.Damaged, $"the history database is damaged ({e.Message.TrimEnd('.')}); it was left untouched: move it away to start a new history, or restore a backup", e);
}
