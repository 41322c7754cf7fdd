using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using FineTuneAgent.Core.Plugins;
using Spectre.Console;

namespace FineTuneAgent.Console.Commands;

/// <summary>
/// `fta plugins`: every plugin in the plugins folder with its kind, version and status, including
/// folders that failed to load (with the reason) and folders whose assembly has no
/// implementations yet.
/// </summary>
public static class PluginsCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table." };
        var command = new Command("plugins", "List the model template and fine-tuning method plugins, their versions and load status.") { json };
        command.SetAction(parse => Run(parse.GetValue(json)));
        return command;
    }

    private static int Run(bool json)
    {
        using var host = PluginHost.Load();
        var plugins = host.Plugins;
        if (json)
        {
            var listing = new { folder = host.Folder, plugins = plugins.Select(PluginRow.Of) };
            System.Console.WriteLine(JsonSerializer.Serialize(listing, new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        var console = Terminal.Create();
        console.MarkupLineInterpolated($"plugins folder: {host.Folder}");
        var table = new Table().AddColumns("Name", "Kind", "Version", "Folder", "Status");
        foreach (var p in plugins)
            table.AddRow(Markup.Escape(p.Name), p.Kind?.ToString().ToLowerInvariant() ?? "-", Markup.Escape(ShortVersion(p.Version)), Markup.Escape(Path.GetFileName(p.Folder)), StatusMarkup(p));
        console.Write(table);
        return 0;
    }

    /// <summary>The version with its source revision cut to a short commit ("1.0.0+243b53a"), as the table's column.</summary>
    private static string ShortVersion(string? version) =>
        version is null ? "-" : version.IndexOf('+', StringComparison.Ordinal) is var plus and >= 0 && version.Length > plus + 8 ? version[..(plus + 8)] : version;

    private static string StatusMarkup(PluginInfo p) => p.Status switch
    {
        PluginStatus.Loaded => "[green]loaded[/]",
        PluginStatus.ReloadFailed => $"[yellow]loaded, newer build failed:[/] {Markup.Escape(p.Reason ?? "")}",
        PluginStatus.NoImplementations => "[grey]no implementations[/]",
        PluginStatus.Draining => $"[yellow]superseded, draining ({p.Leases} lease{(p.Leases == 1 ? "" : "s")})[/]",
        _ => $"[red]failed:[/] {Markup.Escape(p.Reason ?? "")}",
    };
}
