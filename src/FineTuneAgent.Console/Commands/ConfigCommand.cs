using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Core.Config;
using FineTuneAgent.Core.Config.Hocon;

namespace FineTuneAgent.Console.Commands;

/// <summary>
/// `fta config show [--file F] [--json]`: the agent configuration in effect — the built-in
/// agent.hocon, the user's file over it (--file, else FTA_CONFIG, else ./agent.hocon) and the
/// environment overrides the files declare — as HOCON, or as JSON with --json. Warnings
/// (unknown keys) go to stderr; errors go to stderr with file:line:column and exit 1.
/// </summary>
public static class ConfigCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var file = new Option<string?>("--file") { Description = $"The configuration file (default: {AgentConfigLoader.FileVariable}, else ./{AgentConfigLoader.FileName}, else the built-in defaults)." };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of HOCON." };
        var show = new Command("show", "Print the agent configuration in effect: defaults, the file over them, environment overrides.") { file, json };
        show.SetAction(parse => Show(parse.GetValue(file), parse.GetValue(json)));
        return new Command("config", "The agent's configuration (agent.hocon).") { show };
    }

    private static int Show(string? file, bool json)
    {
        LoadedAgentConfig loaded;
        try
        {
            loaded = AgentConfigLoader.Load(file);
        }
        catch (ConfigException e)
        {
            Report(e.Warnings, "warning");
            Report(e.Errors, "error");
            return 1;
        }
        catch (Exception e) when (e is HoconException or FileNotFoundException)
        {
            System.Console.Error.WriteLine($"fta: error: {e.Message}");
            return 1;
        }
        Report(loaded.Warnings, "warning");
        var effective = new JsonObject { ["agent"] = SettingsJson.ToJson(loaded.Settings) };
        if (json)
        {
            System.Console.WriteLine(effective.ToJsonString(Indented));
            return 0;
        }
        System.Console.WriteLine($"# {(loaded.Source is null ? "built-in defaults" : $"{loaded.Source} over the built-in defaults")}, with environment overrides");
        System.Console.Write(HoconWriter.Write(effective));
        return 0;
    }

    private static void Report(IEnumerable<ConfigProblem> problems, string kind)
    {
        foreach (var p in problems)
            System.Console.Error.WriteLine($"fta: {kind}: {p}");
    }
}
