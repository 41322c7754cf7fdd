using System.Text.Encodings.Web;
using System.Text.Json;
using FineTuneAgent.Core.Config.Hocon;

namespace FineTuneAgent.Core.Tests.Config;

/// <summary>Parsing with a fixed, empty (or given) environment, and compact JSON to compare trees.</summary>
internal static class HoconTestSupport
{
    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static HoconObject Parse(string text, IReadOnlyDictionary<string, string>? environment = null) =>
        HoconReader.Parse(text, "test.conf", new HoconOptions { EnvironmentVariable = name => environment?.GetValueOrDefault(name) });

    /// <summary>The resolved tree as compact JSON.</summary>
    public static string Json(string text, IReadOnlyDictionary<string, string>? environment = null) => Json(Parse(text, environment));

    public static string Json(HoconValue value) => value.ToJsonNode()!.ToJsonString(Compact);

    public static HoconException Error(string text, IReadOnlyDictionary<string, string>? environment = null) =>
        Assert.Throws<HoconException>(() => Parse(text, environment));
}
