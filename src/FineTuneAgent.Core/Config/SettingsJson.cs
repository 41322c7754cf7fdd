using System.Collections;
using System.Globalization;
using System.Text.Json.Nodes;

namespace FineTuneAgent.Core.Config;

/// <summary>
/// Bound settings back to JSON with the keys of the file (kebab-case), so what the agent uses can
/// be shown and read back: durations as HOCON durations ("1s", "500ms"), sizes as bytes, enums
/// by their kebab-case names.
/// </summary>
public static class SettingsJson
{
    public static JsonObject ToJson(object settings)
    {
        var o = new JsonObject();
        foreach (var (key, property) in ConfigBinder.KeysOf(settings.GetType()))
            o[key] = Value(property.GetValue(settings));
        return o;
    }

    private static JsonNode? Value(object? value) => value switch
    {
        null => null,
        string s => s,
        bool b => b,
        int i => i,
        long l => l,
        double d => d,
        TimeSpan t => FormatDuration(t),
        Enum e => ConfigKeys.KebabCase(e.ToString()),
        IEnumerable items => new JsonArray(items.Cast<object?>().Select(Value).ToArray()),
        _ when value.GetType().IsClass => ToJson(value),
        _ => throw new InvalidOperationException($"cannot show a setting of type {value.GetType().Name}"),
    };

    /// <summary>The duration in the largest unit that holds it exactly: "2d", "90m", "1500ms".</summary>
    public static string FormatDuration(TimeSpan t)
    {
        (long Ticks, string Unit)[] units = [(TimeSpan.TicksPerDay, "d"), (TimeSpan.TicksPerHour, "h"), (TimeSpan.TicksPerMinute, "m"),
            (TimeSpan.TicksPerSecond, "s"), (TimeSpan.TicksPerMillisecond, "ms"), (TimeSpan.TicksPerMicrosecond, "us")];
        foreach (var (ticks, unit) in units)
        {
            if (t.Ticks != 0 && t.Ticks % ticks == 0)
                return (t.Ticks / ticks).ToString(CultureInfo.InvariantCulture) + unit;
        }
        return (t.Ticks * 100).ToString(CultureInfo.InvariantCulture) + "ns";
    }

}
