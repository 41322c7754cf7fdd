using FineTuneAgent.Core.Config.Hocon;
using static FineTuneAgent.Core.Tests.Config.HoconTestSupport;

namespace FineTuneAgent.Core.Tests.Config;

/// <summary>The spec's "Path expressions" and "Paths as keys".</summary>
public sealed class HoconPathExpressionTests
{
    [Theory]
    [InlineData("foo.bar.\"hello.world\"", new[] { "foo", "bar", "hello.world" })]
    [InlineData("10.0foo", new[] { "10", "0foo" })]
    [InlineData("foo10.0", new[] { "foo10", "0" })]
    [InlineData("foo\"10.0\"", new[] { "foo10.0" })]
    [InlineData("1.2.3", new[] { "1", "2", "3" })]
    [InlineData("a.\"\".b", new[] { "a", "", "b" })]
    [InlineData("true", new[] { "true" })]
    [InlineData("a b c", new[] { "a b c" })]
    public void PathExpressions_SplitOnDotsOutsideQuotes(string expression, string[] elements) =>
        Assert.Equal(elements, HoconPath.Parse(expression));

    [Theory]
    [InlineData("a..b")]
    [InlineData(".a")]
    [InlineData("a.")]
    public void EmptyUnquotedElements_AreErrors(string expression) =>
        Assert.Contains("empty path element", Assert.Throws<HoconException>(() => HoconPath.Parse(expression)).Message);

    [Fact]
    public void PathKeys_ExpandToNestedObjects()
    {
        Assert.Equal(Json("foo { bar : 42 }"), Json("foo.bar : 42"));
        Assert.Equal(Json("foo { bar { baz : 42 } }"), Json("foo.bar.baz : 42"));
        Assert.Equal(Json("a { x : 42, y : 43 }"), Json("a.x : 42, a.y : 43"));
        Assert.Equal(Json("\"a b c\" : 42"), Json("a b c : 42"));
    }

    [Fact]
    public void KeysAreAlwaysStrings_AndNumbersSplitOnTheirDot()
    {
        Assert.Equal("""{"true":42}""", Json("true : 42"));
        Assert.Equal("""{"3":42}""", Json("3 : 42"));
        Assert.Equal("""{"3":{"14":42}}""", Json("3.14 : 42"));
    }

    [Fact]
    public void QuotedKeys_WithDots_AreOneKey_AndTheGetterReachesThemQuoted()
    {
        var o = Parse("""a."b.c" = 1""");

        Assert.Equal("""{"a":{"b.c":1}}""", Json(o));
        Assert.Equal(1, o.GetInt32("a.\"b.c\""));
        Assert.False(o.HasPath("a.b.c"));
    }

    [Fact]
    public void EmptyPathInAKey_IsAnError_AtTheDot()
    {
        var e = Error("a..b = 1");

        Assert.Equal((1, 3), (e.Position.Line, e.Position.Column));
    }

    [Fact]
    public void Render_QuotesWhatWouldNotParseBack()
    {
        Assert.Equal("agent.http.port", HoconPath.Render(["agent", "http", "port"]));
        Assert.Equal("a.\"b.c\".\"\".\"x y\".\"1\"", HoconPath.Render(["a", "b.c", "", "x y", "1"]));
        Assert.Equal(["a", "b.c", "", "x y", "1"], HoconPath.Parse(HoconPath.Render(["a", "b.c", "", "x y", "1"])));
    }
}
