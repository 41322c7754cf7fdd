using Microsoft.Data.Sqlite;

namespace FineTuneAgent.Core.Tests.History;

/// <summary>A temporary folder for a history database, deleted afterwards; and raw SQLite access to check what the store wrote.</summary>
internal sealed class HistoryFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("fta-history-").FullName;

    public string Database => System.IO.Path.Combine(Path, "history.db");

    public void Dispose() => Directory.Delete(Path, recursive: true);

    /// <summary>A plain connection that is not the store's (no pooling, so the file is closed on Dispose).</summary>
    public static SqliteConnection Raw(string database, SqliteOpenMode mode = SqliteOpenMode.ReadWriteCreate)
    {
        var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Mode = mode, Pooling = false }.ToString());
        c.Open();
        return c;
    }

    public static object? Scalar(SqliteConnection c, string sql)
    {
        using var command = c.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    public static void Execute(SqliteConnection c, string sql)
    {
        using var command = c.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public static string IntegrityCheck(string database)
    {
        using var c = Raw(database, SqliteOpenMode.ReadOnly);
        return (string)Scalar(c, "PRAGMA integrity_check")!;
    }
}
