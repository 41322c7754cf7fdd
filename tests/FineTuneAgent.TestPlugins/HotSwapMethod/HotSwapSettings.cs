using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;

namespace FineTuneAgent.TestPlugins.HotSwapMethod;

/// <summary>The test method's settings, recording which build parsed them.</summary>
public sealed record HotSwapSettings(string Build, int Steps) : MethodSettings("hotswap")
{
    public override JsonObject ToJson() => new() { ["build"] = Build, ["steps"] = Steps };
}
