using System.Globalization;
using System.Text.RegularExpressions;

namespace FineTuneAgent.Core.Config.Hocon;

/// <summary>
/// The spec's "Automatic type conversions" for an application asking for a type: numbers and
/// booleans read as strings, strings read as numbers (JSON's rules) and as booleans
/// (true/yes/on, false/no/off) — environment variables are always strings, so this is what lets
/// <c>port = ${?FTA_HTTP_PORT}</c> be a number. Null, objects and arrays never convert.
/// Each returns a problem such as <c>expected a number, got "abc"</c> instead of throwing.
/// </summary>
internal static partial class HoconConversions
{
    [GeneratedRegex(@"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex JsonNumber();

    public static bool TryString(HoconValue v, out string value, out string problem)
    {
        value = "";
        problem = "";
        if (v is HoconScalar { Type: not HoconValueType.Null } s)
        {
            value = s.Text;
            return true;
        }
        problem = $"expected a string, got {v.Describe()}";
        return false;
    }

    public static bool TryBoolean(HoconValue v, out bool value, out string problem)
    {
        value = false;
        problem = "";
        if (v is HoconScalar { Type: HoconValueType.Boolean or HoconValueType.String } s)
        {
            switch (s.Text)
            {
                case "true" or "yes" or "on": value = true; return true;
                case "false" or "no" or "off": value = false; return true;
            }
        }
        problem = $"expected a boolean (true/false, yes/no, on/off), got {v.Describe()}";
        return false;
    }

    public static bool TryDouble(HoconValue v, out double value, out string problem)
    {
        value = 0;
        problem = "";
        if (NumberText(v) is { } text && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value))
            return true;
        problem = $"expected a number, got {v.Describe()}";
        return false;
    }

    public static bool TryInt64(HoconValue v, out long value, out string problem) => TryWhole(v, long.MinValue, long.MaxValue, out value, out problem);

    /// <summary>A whole number in [min, max]; 1e3 counts, 1.5 does not.</summary>
    public static bool TryWhole(HoconValue v, long min, long max, out long value, out string problem)
    {
        value = 0;
        problem = "";
        if (NumberText(v) is not { } text)
        {
            problem = $"expected a number, got {v.Describe()}";
            return false;
        }
        if (!decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || d != decimal.Truncate(d))
        {
            problem = $"expected a whole number, got {v.Describe()}";
            return false;
        }
        if (d < min || d > max)
        {
            problem = $"expected a whole number from {min} to {max}, got {v.Describe()}";
            return false;
        }
        value = (long)d;
        return true;
    }

    public static bool TryDuration(HoconValue v, out TimeSpan value, out string problem)
    {
        value = default;
        problem = $"expected a duration (such as \"30s\", \"500ms\", \"2 minutes\"), got {v.Describe()}";
        return v switch
        {
            HoconScalar { Type: HoconValueType.Number } n => HoconUnits.TryDurationFromNumber(n.Text, out value, out problem),
            HoconScalar { Type: HoconValueType.String } s => HoconUnits.TryParseDuration(s.Text, out value, out problem),
            _ => false,
        };
    }

    public static bool TryBytes(HoconValue v, out long value, out string problem)
    {
        value = 0;
        problem = $"expected a size in bytes (such as \"512KiB\", \"10MB\", 4096), got {v.Describe()}";
        return v is HoconScalar { Type: HoconValueType.Number or HoconValueType.String } s && HoconUnits.TryParseBytes(s.Text, out value, out problem);
    }

    /// <summary>The text of a number, or of a string that is a number by JSON's rules.</summary>
    private static string? NumberText(HoconValue v) => v switch
    {
        HoconScalar { Type: HoconValueType.Number } n => n.Text,
        HoconScalar { Type: HoconValueType.String } s when JsonNumber().IsMatch(s.Text) => s.Text,
        _ => null,
    };
}
