using System.Text.Json.Nodes;

namespace FineTuneAgent.Console.Tui;

/// <summary>The agent's plugins with versions and status; r reloads them (a rebuilt plugin serves new runs).</summary>
internal sealed class PluginsScreen : Screen
{
    public override string Title => "plugins";

    public override string Keys => "r reload · Esc back · q quit";

    public override IReadOnlyList<string> Render(ConsoleData data, int width, int height)
    {
        var plugins = data.Snapshot.Plugins;
        if (plugins is null)
            return ["[grey]loading…[/]"];
        var lines = new List<string> { Cells.Fit($"folder: {plugins["folder"]}", width) };
        int name = 26, kind = 9, version = 16;
        var status = Math.Max(8, width - name - kind - version - 3);
        lines.Add("[bold]" + Cells.Fit("NAME", name) + " " + Cells.Fit("KIND", kind) + " " + Cells.Fit("VERSION", version) + " " + Cells.Fit("STATUS", status) + "[/]");
        foreach (var p in (plugins["plugins"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var s = (string?)p["status"] ?? "?";
            var text = Cells.Fit(s + (p["reason"] is { } r ? $": {r}" : ""), status);
            lines.Add(Cells.Fit((string?)p["name"], name) + " " + Cells.Fit((string?)p["kind"], kind) + " " + Cells.Fit((string?)p["version"], version) + " "
                + (s == "loaded" ? $"[green]{text}[/]" : s is "failed" or "reload-failed" ? $"[red]{text}[/]" : text));
        }
        return lines.Take(height).ToList();
    }

    public override ScreenAction Handle(ConsoleKeyInfo key, ConsoleData data)
    {
        switch (key.Key)
        {
            case ConsoleKey.R:
                Notice = RunScreen.Act(data, () => data.Client.Post("api/v1/plugins/reload"), "plugins reloaded");
                break;
            case ConsoleKey.Escape or ConsoleKey.Backspace:
                return ScreenAction.Back;
            case ConsoleKey.Q:
                return ScreenAction.Quit;
        }
        return ScreenAction.Stay;
    }
}
