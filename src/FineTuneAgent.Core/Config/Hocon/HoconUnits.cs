using System.Globalization;
using System.Text.RegularExpressions;

namespace FineTuneAgent.Core.Config.Hocon;

/// <summary>
/// The spec's "Units format": a number, optional whitespace, an optional unit made of letters.
/// Durations default to milliseconds and their units are lowercase only; sizes default to bytes,
/// with powers of ten (<c>kB</c>, <c>MB</c>, …) and of two (<c>K</c>/<c>k</c>/<c>Ki</c>/<c>KiB</c>, …)
/// exactly as the spec's tables list them. Arithmetic is decimal, so <c>1.5h</c> and <c>0.5K</c> are exact.
/// </summary>
public static partial class HoconUnits
{
    /// <summary>Nanoseconds per duration unit (the spec's list, long and plural forms included).</summary>
    private static readonly Dictionary<string, decimal> DurationUnits = BuildDurationUnits();

    /// <summary>Bytes per size unit.</summary>
    private static readonly Dictionary<string, decimal> SizeUnits = BuildSizeUnits();

    [GeneratedRegex(@"^\s*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)\s*(\p{L}*)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex NumberAndUnit();

    /// <summary>A duration such as "10s", "1.5 hours", "500" (milliseconds); FormatException otherwise.</summary>
    public static TimeSpan ParseDuration(string text) =>
        TryParseDuration(text, out var d, out var problem) ? d : throw new FormatException(problem);

    /// <summary>A size such as "512K" (524288), "10MB" (10,000,000), "100" (bytes); FormatException otherwise.</summary>
    public static long ParseBytes(string text) =>
        TryParseBytes(text, out var b, out var problem) ? b : throw new FormatException(problem);

    public static bool TryParseDuration(string text, out TimeSpan duration, out string problem)
    {
        duration = default;
        if (!TrySplit(text, "duration", out var number, out var unit, out problem))
            return false;
        if (unit.Length == 0)
            unit = "ms";
        if (!DurationUnits.TryGetValue(unit, out var nanosPerUnit))
        {
            problem = $"unknown duration unit '{unit}' in \"{text}\" (units: ns, us, ms, s, m, h, d, or their long forms such as 'seconds'; lowercase)";
            return false;
        }
        decimal ticks;
        try
        {
            ticks = decimal.Truncate(number * nanosPerUnit / 100);
        }
        catch (OverflowException)
        {
            ticks = decimal.MaxValue;
        }
        if (ticks > TimeSpan.MaxValue.Ticks || ticks < TimeSpan.MinValue.Ticks)
        {
            problem = $"duration \"{text}\" is out of range";
            return false;
        }
        duration = TimeSpan.FromTicks((long)ticks);
        return true;
    }

    public static bool TryParseBytes(string text, out long bytes, out string problem)
    {
        bytes = 0;
        if (!TrySplit(text, "size", out var number, out var unit, out problem))
            return false;
        var bytesPerUnit = 1m;
        if (unit.Length > 0 && !SizeUnits.TryGetValue(unit, out bytesPerUnit))
        {
            problem = $"unknown size unit '{unit}' in \"{text}\" (units: B, kB/MB/GB… for powers of 1000, K/M/G… or KiB/MiB/GiB… for powers of 1024)";
            return false;
        }
        decimal value;
        try
        {
            value = decimal.Truncate(number * bytesPerUnit);
        }
        catch (OverflowException)
        {
            value = decimal.MaxValue;
        }
        if (value > long.MaxValue || value < long.MinValue)
        {
            problem = $"size \"{text}\" does not fit in 64 bits";
            return false;
        }
        bytes = (long)value;
        return true;
    }

    /// <summary>A bare number in the family's default unit (milliseconds): the spec's rule for numbers.</summary>
    internal static bool TryDurationFromNumber(string numberText, out TimeSpan duration, out string problem) =>
        TryParseDuration(numberText + "ms", out duration, out problem);

    private static bool TrySplit(string text, string what, out decimal number, out string unit, out string problem)
    {
        number = 0;
        unit = "";
        problem = "";
        var m = NumberAndUnit().Match(text);
        if (!m.Success)
        {
            problem = $"expected a {what} (a number and an optional unit, such as {(what == "duration" ? "\"30s\"" : "\"512MiB\"")}), got {HoconStrings.Quote(text)}";
            return false;
        }
        if (!decimal.TryParse(m.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out number))
        {
            problem = $"{what} \"{text}\" is out of range";
            return false;
        }
        unit = m.Groups[2].Value;
        return true;
    }

    private static Dictionary<string, decimal> BuildDurationUnits()
    {
        var units = new Dictionary<string, decimal>(StringComparer.Ordinal);
        void Add(decimal nanos, params string[] names)
        {
            foreach (var n in names)
                units[n] = nanos;
        }
        Add(1m, "ns", "nano", "nanos", "nanosecond", "nanoseconds");
        Add(1_000m, "us", "micro", "micros", "microsecond", "microseconds");
        Add(1_000_000m, "ms", "milli", "millis", "millisecond", "milliseconds");
        Add(1_000_000_000m, "s", "second", "seconds");
        Add(60m * 1_000_000_000m, "m", "minute", "minutes");
        Add(3600m * 1_000_000_000m, "h", "hour", "hours");
        Add(86400m * 1_000_000_000m, "d", "day", "days");
        return units;
    }

    private static Dictionary<string, decimal> BuildSizeUnits()
    {
        var units = new Dictionary<string, decimal>(StringComparer.Ordinal) { ["B"] = 1, ["b"] = 1, ["byte"] = 1, ["bytes"] = 1 };
        // The spec's tables, one row per power: the decimal row, then the binary row.
        string[] decimalNames = ["kilo", "mega", "giga", "tera", "peta", "exa", "zetta", "yotta"];
        string[] binaryNames = ["kibi", "mebi", "gibi", "tebi", "pebi", "exbi", "zebi", "yobi"];
        const string letters = "KMGTPEZY";
        decimal thousand = 1, kibi = 1;
        for (var p = 0; p < letters.Length; p++)
        {
            thousand *= 1000;
            kibi *= 1024;
            var upper = letters[p].ToString();
            var lower = upper.ToLowerInvariant();
            foreach (var n in new[] { p == 0 ? "kB" : upper + "B", decimalNames[p] + "byte", decimalNames[p] + "bytes" })
                units[n] = thousand;
            foreach (var n in new[] { upper, lower, upper + "i", upper + "iB", binaryNames[p] + "byte", binaryNames[p] + "bytes" })
                units[n] = kibi;
        }
        return units;
    }
}
