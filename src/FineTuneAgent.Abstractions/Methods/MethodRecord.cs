using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Torch;

namespace FineTuneAgent.Abstractions.Methods;

/// <summary>
/// fta_method.json: which method wrote a save folder, with what settings, over which base model.
/// Freeze and Full write it beside their tensors so a later run can load them with the same
/// settings (PEFT adapters carry adapter_config.json instead).
/// </summary>
public static class MethodRecord
{
    public const string FileName = "fta_method.json";

    public static void Write(string directory, MethodSettings settings, AdapterSaveOptions options, string weightsFile)
    {
        var record = new JsonObject
        {
            ["method"] = settings.Method,
            ["settings"] = settings.ToJson(),
            ["base_model_name_or_path"] = options.BaseModelNameOrPath,
            ["revision"] = options.Revision,
            ["weights"] = weightsFile,
        };
        AtomicFile.Write(Path.Combine(directory, FileName), stream =>
        {
            using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            record.WriteTo(writer);
        });
    }

    /// <summary>
    /// Reads the record and parses its settings with <paramref name="parse"/>; a setting the method
    /// rejects is reported against the record's file.
    /// </summary>
    public static (T Settings, string WeightsFile) ReadSettings<T>(string directory, string method, Func<JsonObject, T> parse) where T : MethodSettings
    {
        var (json, weights) = Read(directory, method);
        try
        {
            return (parse(json), weights);
        }
        catch (MethodSettingsException e)
        {
            throw new InvalidDataException($"{Path.Combine(directory, FileName)}: {e.Message}", e);
        }
    }

    /// <summary>Reads the record, checking it was written by <paramref name="method"/>; returns its settings object and weights file.</summary>
    public static (JsonObject Settings, string WeightsFile) Read(string directory, string method)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: not found; {directory} was not saved by the {method} method", path);
        JsonObject record;
        try
        {
            record = JsonNode.Parse(File.ReadAllText(path, Encoding.UTF8)) as JsonObject ?? throw new InvalidDataException($"{path}: expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e);
        }
        var written = (record["method"] as JsonValue)?.TryGetValue<string>(out var m) == true ? m : null;
        if (written != method)
            throw new InvalidDataException($"{path}: field 'method': \"{written}\", expected \"{method}\"");
        var settings = record["settings"] as JsonObject ?? throw new InvalidDataException($"{path}: field 'settings': expected an object");
        var weights = (record["weights"] as JsonValue)?.TryGetValue<string>(out var w) == true && w.Length > 0 && !w.Contains('/') && !w.Contains('\\')
            ? w
            : throw new InvalidDataException($"{path}: field 'weights': expected a file name");
        return ((JsonObject)settings.DeepClone(), weights);
    }
}
