using FineTuneAgent.Core.Config;
using FineTuneAgent.Core.Config.Hocon;
using static FineTuneAgent.Core.Tests.Config.HoconTestSupport;

namespace FineTuneAgent.Core.Tests.Config;

public sealed class ConfigBinderTests
{
    public enum Color
    {
        DeepBlue,
        Red,
    }

    public sealed record Inner
    {
        public int Count { get; init; } = 1;
    }

    public sealed record Sample : IValidatedSettings
    {
        public string Name { get; init; } = "default";
        public string? Optional { get; init; } = "x";
        public int MaxRetries { get; init; } = 3;
        public long Big { get; init; }
        public double Ratio { get; init; } = 0.5;
        public bool Enabled { get; init; }
        public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);
        [SizeInBytes]
        public long BufferSize { get; init; } = 4096;
        public Color Color { get; init; } = Color.Red;
        public IReadOnlyList<string> Tags { get; init; } = [];
        public int[] Numbers { get; init; } = [];
        public int? Limit { get; init; } = 7;
        public Inner Inner { get; init; } = new();

        public IEnumerable<(string Key, string Message)> Validate()
        {
            if (MaxRetries < 0)
                yield return ("max-retries", $"must be 0 or more, got {MaxRetries}");
        }
    }

    private static (Sample Value, ConfigBinder Binder) Bind(string text, IReadOnlyDictionary<string, string>? environment = null)
    {
        var binder = new ConfigBinder();
        return (binder.Bind<Sample>(Parse(text, environment), "s"), binder);
    }

    [Fact]
    public void KebabCaseKeys_BindToPascalCaseProperties_WithEveryType()
    {
        var (v, binder) = Bind("""
            s {
              name = fta
              optional = null
              max-retries = 5
              big = 10000000000
              ratio = 0.25
              enabled = yes
              timeout = 1.5 minutes
              buffer-size = 16MiB
              color = deep-blue
              tags = [a, b]
              numbers = [1, 2, 3]
              limit = null
              inner { count = 9 }
            }
            """);

        Assert.Empty(binder.Errors);
        Assert.Empty(binder.Warnings);
        Assert.Equal(new Sample
        {
            Name = "fta",
            Optional = null,
            MaxRetries = 5,
            Big = 10_000_000_000,
            Ratio = 0.25,
            Enabled = true,
            Timeout = TimeSpan.FromSeconds(90),
            BufferSize = 16 * 1024 * 1024,
            Color = Color.DeepBlue,
            Tags = v.Tags,
            Numbers = v.Numbers,
            Limit = null,
            Inner = new Inner { Count = 9 },
        }, v);
        Assert.Equal(["a", "b"], v.Tags);
        Assert.Equal([1, 2, 3], v.Numbers);
    }

    [Fact]
    public void UnsetKeys_KeepTheirDefaults_AndAMissingSection_IsAllDefaults()
    {
        var (partial, _) = Bind("s.name = x");
        var (missing, binder) = Bind("other = 1");

        Assert.Equal(new Sample { Name = "x", Tags = partial.Tags, Numbers = partial.Numbers, Inner = partial.Inner }, partial);
        Assert.Equal(3, missing.MaxRetries);
        Assert.Equal(TimeSpan.FromSeconds(5), missing.Timeout);
        Assert.Empty(binder.Errors);
    }

    [Fact]
    public void UnknownKeys_AreWarnings_WithADidYouMean_AndThePosition()
    {
        var (v, binder) = Bind("s {\n  nmae = x\n  max-retry = 2\n  completely-unrelated = 1\n  inner { cuont = 2 }\n}");

        Assert.Empty(binder.Errors);
        Assert.Equal("default", v.Name);
        Assert.Equal(
        [
            "s.nmae: unknown setting; did you mean 'name'? (test.conf:2:10)",
            "s.max-retry: unknown setting; did you mean 'max-retries'? (test.conf:3:15)",
            "s.completely-unrelated: unknown setting (test.conf:4:26)",
            "s.inner.cuont: unknown setting; did you mean 'count'? (test.conf:5:19)",
        ], binder.Warnings.Select(w => w.ToString()));
    }

    [Fact]
    public void WrongTypes_AreErrors_NamingTheFullPathAndPosition_AllAtOnce()
    {
        var (_, binder) = Bind("""
            s {
              max-retries = abc
              enabled = maybe
              timeout = soon
              buffer-size = 12 parsecs
              color = rde
              tags = a
              numbers = [1, x]
              name = [1]
              inner = 5
              ratio = 0.5.0
            }
            """);

        Assert.Equal(
        [
            "s.max-retries: expected a number, got \"abc\" (test.conf:2:17)",
            "s.enabled: expected a boolean (true/false, yes/no, on/off), got \"maybe\" (test.conf:3:13)",
            "s.timeout: expected a duration (a number and an optional unit, such as \"30s\"), got \"soon\" (test.conf:4:13)",
            "s.buffer-size: unknown size unit 'parsecs' in \"12 parsecs\" (units: B, kB/MB/GB… for powers of 1000, K/M/G… or KiB/MiB/GiB… for powers of 1024) (test.conf:5:17)",
            "s.color: expected one of deep-blue, red, got \"rde\"; did you mean 'red'? (test.conf:6:11)",
            "s.tags: expected an array, got \"a\" (test.conf:7:10)",
            "s.numbers[1]: expected a number, got \"x\" (test.conf:8:17)",
            "s.name: expected a string, got an array (test.conf:9:10)",
            "s.inner: expected an object, got 5 (test.conf:10:11)",
            "s.ratio: expected a number, got \"0.5.0\" (test.conf:11:11)",
        ], binder.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Null_ForANonNullableSetting_IsAnError()
    {
        var (_, binder) = Bind("s { name = null, max-retries = null, timeout = null }");

        Assert.Equal(
        [
            "s.name: expected a string, got null (test.conf:1:12)",
            "s.max-retries: expected a number, got null (test.conf:1:32)",
            "s.timeout: expected a duration, got null (test.conf:1:48)",
        ], binder.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Validation_ReportsTheKeyWithItsPosition()
    {
        var (_, binder) = Bind("s {\n  max-retries = -1\n}");

        Assert.Equal("s.max-retries: must be 0 or more, got -1 (test.conf:2:17)", Assert.Single(binder.Errors).ToString());
    }

    [Fact]
    public void NumbersFromTheEnvironment_AreStrings_ThatConvert_AndErrorsSayWhereTheyCameFrom()
    {
        var (v, _) = Bind("s.max-retries = ${?RETRIES}", new Dictionary<string, string> { ["RETRIES"] = "8" });
        var (_, binder) = Bind("s.max-retries = ${?RETRIES}", new Dictionary<string, string> { ["RETRIES"] = "eight" });

        Assert.Equal(8, v.MaxRetries);
        Assert.Equal("s.max-retries: expected a number, got \"eight\" (test.conf:1:17, environment variable RETRIES)", Assert.Single(binder.Errors).ToString());
    }

    [Fact]
    public void SectionThatIsNotAnObject_IsAnError()
    {
        var binder = new ConfigBinder();
        binder.Bind<Sample>(Parse("s = 3"), "s");

        Assert.Equal("s: expected an object, got 3 (test.conf:1:5)", Assert.Single(binder.Errors).ToString());
    }

    [Theory]
    [InlineData("MaxRequestBodySize", "max-request-body-size")]
    [InlineData("Bf16", "bf16")]
    [InlineData("Name", "name")]
    [InlineData("HTTPPort", "http-port")]
    [InlineData("FailureDetectorThreshold", "failure-detector-threshold")]
    public void KebabCase_SplitsWordsAndAcronyms(string pascal, string kebab) =>
        Assert.Equal(kebab, ConfigKeys.KebabCase(pascal));

    [Fact]
    public void SettingsJson_WritesBackTheFileKeys_AndReadsBackEqual()
    {
        var sample = new Sample { Timeout = TimeSpan.FromMilliseconds(1500), Color = Color.DeepBlue, Tags = ["x"], Numbers = [4], Limit = null };
        var json = SettingsJson.ToJson(sample);
        var text = HoconWriter.Write(new System.Text.Json.Nodes.JsonObject { ["s"] = json });

        Assert.Equal("1500ms", (string)json["timeout"]!);
        Assert.Equal("deep-blue", (string)json["color"]!);
        var binder = new ConfigBinder();
        var back = binder.Bind<Sample>(HoconReader.Parse(text), "s");
        Assert.Empty(binder.Errors);
        Assert.Equal(sample with { Tags = back.Tags, Numbers = back.Numbers }, back);
        Assert.Equal(["x"], back.Tags);
        Assert.Equal([4], back.Numbers);
    }

    [Theory]
    [InlineData(0L, "0ns")]
    [InlineData(10_000_000L, "1s")]
    [InlineData(15_000_000L, "1500ms")]
    [InlineData(36_000_000_000L, "1h")]
    [InlineData(54_000_000_000L, "90m")]
    [InlineData(1_728_000_000_000L, "2d")]
    [InlineData(15L, "1500ns")]
    [InlineData(20L, "2us")]
    public void FormatDuration_UsesTheLargestExactUnit(long ticks, string text) =>
        Assert.Equal(text, SettingsJson.FormatDuration(TimeSpan.FromTicks(ticks)));
}
