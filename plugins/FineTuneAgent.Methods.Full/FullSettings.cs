using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;

namespace FineTuneAgent.Methods.Full;

/// <summary>Full fine-tuning has no settings of its own; an empty object (or null) is the only valid input.</summary>
public sealed record FullSettings() : MethodSettings("full")
{
    public static FullSettings Read(JsonObject? json)
    {
        new SettingsReader("full", json).RejectUnknown();
        return new FullSettings();
    }

    public override JsonObject ToJson() => new();
}
