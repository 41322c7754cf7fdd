using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Core.Training;
using Microsoft.Data.Sqlite;

namespace FineTuneAgent.Core.History;

/// <summary>How values are stored: times as ISO 8601 UTC text (sortable), JSON as compact text, enums as lower-case names.</summary>
internal static class HistorySql
{
    public static string Time(DateTimeOffset t) => t.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    public static DateTimeOffset ParseTime(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

    public static string? Json(JsonNode? node) => node?.ToJsonString();

    public static JsonObject? ParseObject(string? text, string what)
    {
        if (text is null)
            return null;
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw new InvalidDataException($"{what} is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{what} is malformed JSON: {e.Message}", e);
        }
    }

    public static string Name(RunStatus status) => status.ToString().ToLowerInvariant();

    public static string Name(HistoryMetricKind kind) => kind.ToString().ToLowerInvariant();

    public static RunStatus ParseStatus(string text, string what) =>
        Enum.TryParse<RunStatus>(text, ignoreCase: true, out var s) && !int.TryParse(text, out _)
            ? s
            : throw new InvalidDataException($"{what}: unknown run status '{text}'");

    public static HistoryMetricKind ParseKind(string text, string what) =>
        Enum.TryParse<HistoryMetricKind>(text, ignoreCase: true, out var k) && !int.TryParse(text, out _)
            ? k
            : throw new InvalidDataException($"{what}: unknown metric kind '{text}'");

    public static SqliteCommand Command(SqliteConnection connection, string sql, SqliteTransaction? transaction = null, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    public static int Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null, params (string, object?)[] parameters)
    {
        using var command = Command(connection, sql, transaction, parameters);
        return command.ExecuteNonQuery();
    }

    public static object? Scalar(SqliteConnection connection, string sql, SqliteTransaction? transaction = null, params (string, object?)[] parameters)
    {
        using var command = Command(connection, sql, transaction, parameters);
        var value = command.ExecuteScalar();
        return value is DBNull ? null : value;
    }

    public static string? NullableText(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    public static double? NullableDouble(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetDouble(i);

    public static long? NullableLong(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt64(i);
}
