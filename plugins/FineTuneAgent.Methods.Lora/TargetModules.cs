using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FineTuneAgent.Methods.Lora;

/// <summary>
/// PEFT's target_modules: a list of names (a module matches when its path equals a name or
/// ends with "." + name), a regular expression (matched against the whole path), or
/// "all-linear" (every decoder-layer projection; PEFT also leaves out the output layer).
/// </summary>
public sealed record TargetModules
{
    private TargetModules(IReadOnlyList<string>? names, string? regex, bool allLinear)
    {
        Names = names;
        Regex = regex;
        AllLinear = allLinear;
    }

    public IReadOnlyList<string>? Names { get; }

    public string? Regex { get; }

    public bool AllLinear { get; }

    public static TargetModules AllLinearLayers { get; } = new(null, null, true);

    public static TargetModules FromNames(IEnumerable<string> names) => new(names.ToList(), null, false);

    public static TargetModules FromRegex(string pattern)
    {
        _ = new Regex(pattern); // fails early, with the pattern's error
        return new(null, pattern, false);
    }

    /// <summary>Reads the JSON form: ["q_proj", ...], "all-linear", "q_proj,v_proj", or any other string as a regex.</summary>
    public static TargetModules FromJson(JsonNode node, Func<string, Exception> error)
    {
        switch (node)
        {
            case JsonArray array:
                var names = new List<string>();
                foreach (var item in array)
                {
                    if (item is not JsonValue v || !v.TryGetValue<string>(out var s) || s.Length == 0)
                        throw error($"expected module names, got {item?.ToJsonString() ?? "null"}");
                    names.Add(s);
                }
                if (names.Count == 0)
                    throw error("the list is empty");
                return FromNames(names);
            case JsonValue value when value.TryGetValue<string>(out var text):
                if (text is "all-linear" or "all")
                    return AllLinearLayers;
                // LLaMA-Factory's comma-separated form ("q_proj,v_proj"); a regex has other characters.
                if (System.Text.RegularExpressions.Regex.IsMatch(text, @"^\s*[\w.]+(\s*,\s*[\w.]+)+\s*$"))
                    return FromNames(text.Split(',', StringSplitOptions.TrimEntries));
                try
                {
                    return FromRegex(text);
                }
                catch (ArgumentException e)
                {
                    throw error($"\"{text}\" is not a valid regular expression: {e.Message}");
                }
            default:
                throw error($"expected a list of module names, a regular expression or \"all-linear\", got {node.ToJsonString()}");
        }
    }

    public JsonNode ToJson() =>
        AllLinear ? JsonValue.Create("all-linear")! :
        Regex is not null ? JsonValue.Create(Regex)! :
        new JsonArray(Names!.Select(n => (JsonNode)JsonValue.Create(n)!).ToArray());

    /// <summary>Whether a module path (`model.layers.0.self_attn.q_proj`) is a target.</summary>
    public bool Matches(string modulePath)
    {
        if (AllLinear)
            return true;
        if (Regex is not null)
            return System.Text.RegularExpressions.Regex.IsMatch(modulePath, $"^(?:{Regex})$");
        return Names!.Any(n => modulePath == n || modulePath.EndsWith("." + n, StringComparison.Ordinal));
    }
}
