using System.Globalization;
using Spectre.Console;

namespace FineTuneAgent.Console.Tui;

/// <summary>Fixed-width cells for the console's tables and bars: text cut or padded to width, numbers in a short form.</summary>
internal static class Cells
{
    /// <summary><paramref name="text"/> cut (with …) or padded to exactly <paramref name="width"/> cells, escaped for markup.</summary>
    public static string Fit(string? text, int width, bool right = false)
    {
        text ??= "";
        if (width <= 0)
            return "";
        if (text.Length > width)
            text = width == 1 ? "…" : text[..(width - 1)] + "…";
        return Markup.Escape(right ? text.PadLeft(width) : text.PadRight(width));
    }

    /// <summary>A progress bar <paramref name="width"/> cells wide with the percentage, e.g. "██████░░░░ 60%".</summary>
    public static string Bar(double fraction, int width, string color = "green")
    {
        fraction = Math.Clamp(double.IsFinite(fraction) ? fraction : 0, 0, 1);
        var percent = $"{fraction * 100,3:F0}%";
        var cells = Math.Max(1, width - percent.Length - 1);
        var full = (int)Math.Round(fraction * cells);
        return $"[{color}]{new string('█', full)}[/][grey]{new string('░', cells - full)}[/] {percent}";
    }

    public static string Number(double? value, string format = "F4") =>
        value is { } v && double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    public static string Duration(double? seconds) => seconds is not { } s || !double.IsFinite(s) ? "-"
        : s >= 3600 ? $"{(int)(s / 3600)}h{(int)(s % 3600 / 60):D2}m"
        : s >= 60 ? $"{(int)(s / 60)}m{(int)(s % 60):D2}s"
        : $"{s:F0}s";

    /// <summary>The last characters of a run id (they carry its random part), for narrow tables.</summary>
    public static string ShortId(string id) => id.Length > 13 ? id[^13..] : id;

    public static string Status(string status) => status switch
    {
        "completed" => "[green]completed[/]",
        "failed" => "[red]failed[/]",
        "cancelled" => "[yellow]cancelled[/]",
        "interrupted" => "[yellow]interrupted[/]",
        "queued" => "[grey]queued[/]",
        "running" => "[blue]running[/]",
        _ => Markup.Escape(status),
    };

    /// <summary>Status markup padded to <paramref name="width"/> cells.</summary>
    public static string StatusCell(string status, int width) => Status(status) + new string(' ', Math.Max(0, width - status.Length));
}
