using FineTuneAgent.Core.Config.Hocon;
using static FineTuneAgent.Core.Tests.Config.HoconTestSupport;

namespace FineTuneAgent.Core.Tests.Config;

/// <summary>Every error names file:line:column, counted by hand from the text.</summary>
public sealed class HoconErrorPositionTests
{
    [Theory]
    [InlineData("a {\n  b = 1\n", 1, 3, "unterminated object")]
    [InlineData("a = [1,\n2", 1, 5, "unterminated array")]
    [InlineData("a = 1\nb\n", 2, 2, "expected ':', '=', '+=' or '{' after the key 'b'")]
    [InlineData("a =\n", 2, 1, "expected a value for 'a' after '='")]
    [InlineData("a = 1 : 2", 1, 7, "expected ',' or a new line after a field")]
    [InlineData("a = 1\n  ${b} = 2", 2, 3, "a substitution cannot be (part of) a key")]
    [InlineData("a = ${b", 1, 5, "unterminated substitution")]
    [InlineData("a = ${}", 1, 5, "empty substitution")]
    [InlineData("a = \"x\\q\"", 1, 7, "invalid escape")]
    [InlineData("a = \"\"\"never closed", 1, 5, "unterminated \"\"\" string")]
    [InlineData("x = -", 1, 5, "must start a number")]
    [InlineData("a = $x", 1, 5, "'$' starts a substitution")]
    [InlineData("{ a = 1 } b", 1, 11, "after the root object's closing '}'")]
    [InlineData("a = [1 2\n, 3 : 4]", 2, 5, "expected ',', a new line or ']'")]
    [InlineData("[x] = 1", 1, 1, "must be an object")]
    public void SyntaxErrors_PointAtTheirLineAndColumn(string text, int line, int column, string message)
    {
        var e = Error(text);

        Assert.Equal(new HoconPosition("test.conf", line, column), e.Position);
        Assert.Contains(message, e.Message);
        Assert.StartsWith($"test.conf:{line}:{column}: ", e.Message);
    }

    [Fact]
    public void TypeErrors_FromGetters_NameThePathAndWhereTheValueIs()
    {
        var o = Parse("agent {\n  http {\n    port = abc\n  }\n}");

        var e = Assert.Throws<HoconException>(() => o.GetInt32("agent.http.port"));

        Assert.Equal("test.conf:3:12: agent.http.port: expected a number, got \"abc\"", e.Message);
    }

    [Fact]
    public void MissingPath_IsAnError_NamingThePath() =>
        Assert.Contains("agent.name: not set", Assert.Throws<HoconException>(() => Parse("agent {}").GetString("agent.name")).Message);

    [Fact]
    public void Getters_ApplyTheSpecsAutomaticConversions()
    {
        var o = Parse("s = \"42\"\nb1 = yes\nb2 = off\nb3 = \"true\"\nn = 3\nt = true\nf = 1.5\nbig = 1e3\nz = null");

        Assert.Equal(42, o.GetInt32("s"));
        Assert.True(o.GetBoolean("b1"));
        Assert.False(o.GetBoolean("b2"));
        Assert.True(o.GetBoolean("b3"));
        Assert.Equal("3", o.GetString("n"));
        Assert.Equal("true", o.GetString("t"));
        Assert.Equal(1000, o.GetInt64("big"));
        Assert.Contains("expected a whole number, got 1.5", Assert.Throws<HoconException>(() => o.GetInt32("f")).Message);
        Assert.Contains("expected a string, got null", Assert.Throws<HoconException>(() => o.GetString("z")).Message);
        Assert.Contains("expected a boolean", Assert.Throws<HoconException>(() => o.GetBoolean("n")).Message);
    }

    [Fact]
    public void ToJsonNode_GivesTheSameTreeAsJson()
    {
        var node = Parse("a = 1, b = [true, null, \"x\"], c { d = 1.5, e = 10s }").ToJsonNode();

        Assert.Equal(1L, (long)node["a"]!);
        Assert.Equal(3, node["b"]!.AsArray().Count);
        Assert.Null(node["b"]![1]);
        Assert.Equal(1.5, (double)node["c"]!["d"]!);
        Assert.Equal("10s", (string)node["c"]!["e"]!);
    }
}
