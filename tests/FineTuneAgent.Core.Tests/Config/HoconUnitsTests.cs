using FineTuneAgent.Core.Config.Hocon;
using static FineTuneAgent.Core.Tests.Config.HoconTestSupport;

namespace FineTuneAgent.Core.Tests.Config;

/// <summary>The spec's "Duration format" and "Size in bytes format" tables.</summary>
public sealed class HoconUnitsTests
{
    [Theory]
    [InlineData("1000ns", 10)] // 1 µs = 10 ticks of 100 ns
    [InlineData("1000 nanoseconds", 10)]
    [InlineData("2000nanos", 20)]
    [InlineData("5us", 50)]
    [InlineData("5 microseconds", 50)]
    [InlineData("5micros", 50)]
    [InlineData("10ms", 100_000)]
    [InlineData("10 milliseconds", 100_000)]
    [InlineData("1 millisecond", 10_000)]
    [InlineData("10millis", 100_000)]
    [InlineData("2s", 20_000_000)]
    [InlineData("2 seconds", 20_000_000)]
    [InlineData("1second", 10_000_000)]
    [InlineData("1m", 600_000_000)]
    [InlineData("3 minutes", 1_800_000_000)]
    [InlineData("1h", 36_000_000_000)]
    [InlineData("1.5 hours", 54_000_000_000)]
    [InlineData("1d", 864_000_000_000)]
    [InlineData("2 days", 1_728_000_000_000)]
    [InlineData("500", 5_000_000)] // no unit: milliseconds
    [InlineData(" 7 s ", 70_000_000)]
    public void Durations_ParseWithEveryUnitSpelling(string text, long ticks) =>
        Assert.Equal(TimeSpan.FromTicks(ticks), HoconUnits.ParseDuration(text));

    [Fact]
    public void Duration_BareNumberInTheFile_IsMilliseconds_AndStringsConcatenateWithTheirUnit()
    {
        var o = Parse("a = 250\nb = 10s\nc = 1.5 hours\nd = 30 seconds");

        Assert.Equal(TimeSpan.FromMilliseconds(250), o.GetDuration("a"));
        Assert.Equal(TimeSpan.FromSeconds(10), o.GetDuration("b"));
        Assert.Equal(TimeSpan.FromMinutes(90), o.GetDuration("c"));
        Assert.Equal(TimeSpan.FromSeconds(30), o.GetDuration("d"));
    }

    [Theory]
    [InlineData("10MS")] // duration units are lowercase only
    [InlineData("10 Seconds")]
    [InlineData("10 fortnights")]
    [InlineData("ten seconds")]
    public void Durations_WithUnknownOrUppercaseUnits_AreRefused(string text) =>
        Assert.Throws<FormatException>(() => HoconUnits.ParseDuration(text));

    [Fact]
    public void Duration_OfTheWrongType_NamesThePathAndPosition()
    {
        var bad = Assert.Throws<HoconException>(() => Parse("x = 1\ntimeout = soon").GetDuration("timeout"));

        Assert.Equal(new HoconPosition("test.conf", 2, 11), bad.Position);
        Assert.Contains("timeout: expected a duration", bad.Message);
    }

    [Theory]
    [InlineData("100", 100L)]
    [InlineData("1B", 1L)]
    [InlineData("1b", 1L)]
    [InlineData("1byte", 1L)]
    [InlineData("10 bytes", 10L)]
    [InlineData("1kB", 1000L)]
    [InlineData("1kilobyte", 1000L)]
    [InlineData("2 kilobytes", 2000L)]
    [InlineData("1MB", 1_000_000L)]
    [InlineData("1megabytes", 1_000_000L)]
    [InlineData("1GB", 1_000_000_000L)]
    [InlineData("1TB", 1_000_000_000_000L)]
    [InlineData("1PB", 1_000_000_000_000_000L)]
    [InlineData("1EB", 1_000_000_000_000_000_000L)]
    [InlineData("1K", 1024L)]
    [InlineData("1k", 1024L)]
    [InlineData("1Ki", 1024L)]
    [InlineData("1KiB", 1024L)]
    [InlineData("1kibibyte", 1024L)]
    [InlineData("512K", 524_288L)]
    [InlineData("128K", 131_072L)]
    [InlineData("1M", 1_048_576L)]
    [InlineData("1m", 1_048_576L)]
    [InlineData("1MiB", 1_048_576L)]
    [InlineData("3 mebibytes", 3_145_728L)]
    [InlineData("1G", 1_073_741_824L)]
    [InlineData("1g", 1_073_741_824L)]
    [InlineData("1GiB", 1_073_741_824L)]
    [InlineData("1T", 1_099_511_627_776L)]
    [InlineData("1tebibyte", 1_099_511_627_776L)]
    [InlineData("1PiB", 1_125_899_906_842_624L)]
    [InlineData("1EiB", 1_152_921_504_606_846_976L)]
    [InlineData("1.5K", 1536L)]
    [InlineData("0ZB", 0L)]
    public void Sizes_ParseWithEveryUnitInTheSpecsTables(string text, long bytes) =>
        Assert.Equal(bytes, HoconUnits.ParseBytes(text));

    [Theory]
    [InlineData("1KB")] // not in the spec's table: kB is 1000, K/KiB is 1024
    [InlineData("1 kb")]
    [InlineData("1 MIB")]
    [InlineData("8EiB")] // 2^63: one past long.MaxValue
    [InlineData("1ZB")]
    [InlineData("lots")]
    public void Sizes_OutsideTheTablesOrRange_AreRefused(string text) =>
        Assert.Throws<FormatException>(() => HoconUnits.ParseBytes(text));

    [Fact]
    public void Size_Getter_ReadsNumbersAsBytes_AndStringsWithUnits()
    {
        var o = Parse("a = 4096\nb = 512K\nc = 10 MB\nd = 16MiB");

        Assert.Equal(4096, o.GetBytes("a"));
        Assert.Equal(524_288, o.GetBytes("b"));
        Assert.Equal(10_000_000, o.GetBytes("c"));
        Assert.Equal(16_777_216, o.GetBytes("d"));
    }
}
