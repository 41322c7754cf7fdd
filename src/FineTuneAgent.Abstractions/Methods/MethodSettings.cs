using System.Text.Json.Nodes;

namespace FineTuneAgent.Abstractions.Methods;

/// <summary>
/// A method's validated settings. Each method derives its own record; the host sees only the
/// method name and the JSON form (recorded in the run history and shown to the user).
/// </summary>
public abstract record MethodSettings(string Method)
{
    /// <summary>The settings with every default filled in, as the user would write them.</summary>
    public abstract JsonObject ToJson();
}

/// <summary>A setting the method cannot accept; the message names the field.</summary>
public sealed class MethodSettingsException(string method, string field, string message)
    : Exception($"{method} setting '{field}': {message}")
{
    public string MethodName { get; } = method;

    public string Field { get; } = field;
}
