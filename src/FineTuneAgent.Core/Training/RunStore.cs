using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace FineTuneAgent.Core.Training;

/// <summary>
/// Runs as JSON files, one folder per run: <c>&lt;folder&gt;/&lt;id&gt;/run.json</c> (<see cref="RunRecord"/>, replaced
/// atomically on every change) and <c>metrics.jsonl</c> (one event per line). The SQLite history comes later;
/// this is what <c>fta train --resume RUN_ID</c> needs. Default folder: FTA_RUNS_DIR, else
/// $XDG_DATA_HOME/fta/runs, else ~/.local/share/fta/runs.
/// </summary>
public sealed class RunStore(string folder)
{
    public const string RecordFileName = "run.json";
    public const string MetricsFileName = "metrics.jsonl";

    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string Folder { get; } = Path.GetFullPath(folder);

    public static string DefaultFolder
    {
        get
        {
            if (Environment.GetEnvironmentVariable("FTA_RUNS_DIR") is { Length: > 0 } dir)
                return dir;
            var data = Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } xdg
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
            return Path.Combine(data, "fta", "runs");
        }
    }

    /// <summary>A new run id: UTC time and a random suffix, sortable by start.</summary>
    public static string NewId() => $"{DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}-{Guid.NewGuid().ToString("N")[..6]}";

    public string RunFolder(string id) => Path.Combine(Folder, id);

    public RunRecord Create(string id, JsonObject config, string outputDirectory, RunStatus status = RunStatus.Running)
    {
        var now = DateTimeOffset.UtcNow;
        var record = new RunRecord { Id = id, Status = status, CreatedAt = now, UpdatedAt = now, Config = config, OutputDirectory = outputDirectory };
        Directory.CreateDirectory(RunFolder(id));
        Save(record);
        return record;
    }

    public bool Exists(string id) => File.Exists(Path.Combine(RunFolder(id), RecordFileName));

    public RunRecord Get(string id)
    {
        var path = Path.Combine(RunFolder(id), RecordFileName);
        if (!File.Exists(path))
            throw new KeyNotFoundException($"no run '{id}' in {Folder} (runs there: {string.Join(", ", List().Select(r => r.Id).DefaultIfEmpty("none"))})");
        try
        {
            return JsonSerializer.Deserialize<RunRecord>(File.ReadAllText(path), s_json) ?? throw new InvalidDataException($"{path}: empty run record");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: malformed run record at line {e.LineNumber + 1}: {e.Message}", e);
        }
    }

    /// <summary>Every run, oldest first.</summary>
    public IReadOnlyList<RunRecord> List() =>
        Directory.Exists(Folder)
            ? Directory.EnumerateDirectories(Folder).Where(d => File.Exists(Path.Combine(d, RecordFileName))).Select(d => Get(Path.GetFileName(d))).OrderBy(r => r.CreatedAt).ToList()
            : [];

    /// <summary>Replaces run.json (written beside it, then renamed over it).</summary>
    public RunRecord Save(RunRecord record)
    {
        record = record with { UpdatedAt = DateTimeOffset.UtcNow };
        var path = Path.Combine(RunFolder(record.Id), RecordFileName);
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(record, s_json));
        File.Move(temp, path, overwrite: true);
        return record;
    }

    public void AppendMetric(string id, JsonObject metric) =>
        File.AppendAllText(Path.Combine(RunFolder(id), MetricsFileName), metric.ToJsonString() + "\n");

    /// <summary>
    /// Drops metric lines of steps after <paramref name="step"/>: a resumed run repeats them from its
    /// checkpoint, so the history holds each step once.
    /// </summary>
    public void TruncateMetricsAfter(string id, int step)
    {
        var path = Path.Combine(RunFolder(id), MetricsFileName);
        if (!File.Exists(path))
            return;
        var kept = Metrics(id).Where(m => m["step"] is not JsonValue v || v.GetValue<int>() <= step).Select(m => m.ToJsonString() + "\n");
        var temp = path + ".tmp";
        File.WriteAllText(temp, string.Concat(kept));
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The run's metric lines, in order.</summary>
    public IReadOnlyList<JsonObject> Metrics(string id)
    {
        var path = Path.Combine(RunFolder(id), MetricsFileName);
        if (!File.Exists(path))
            return [];
        var result = new List<JsonObject>();
        foreach (var line in File.ReadLines(path))
        {
            if (line.Length == 0)
                continue;
            try
            {
                if (JsonNode.Parse(line) is JsonObject o)
                    result.Add(o);
            }
            catch (JsonException)
            {
                // A line cut short by a killed process; the rest stays readable.
            }
        }
        return result;
    }
}
