using FineTuneAgent.Core.Config.Hocon;
using static FineTuneAgent.Core.Tests.Config.HoconTestSupport;

namespace FineTuneAgent.Core.Tests.Config;

/// <summary>The spec's "Syntax" section, rule by rule.</summary>
public sealed class HoconSyntaxTests
{
    [Fact]
    public void Json_IsValidHocon_WithTheSameData()
    {
        const string json = """{"name": "fta", "port": 8470, "ratio": -0.5e-3, "on": true, "off": false, "none": null, "list": [1, "two", {"three": 3}], "nested": {"a": {"b": []}}}""";

        Assert.Equal("""{"name":"fta","port":8470,"ratio":-0.0005,"on":true,"off":false,"none":null,"list":[1,"two",{"three":3}],"nested":{"a":{"b":[]}}}""", Json(json));
    }

    [Fact]
    public void HoconForm_EqualsItsJsonForm()
    {
        // The same document written as JSON and with HOCON's conveniences: no root braces, '=' and
        // a key followed directly by '{', unquoted strings, newlines for commas, comments, a path key.
        const string jsonForm = """
            {
              "agent": { "name": "lab-1", "http": { "bind-address": "127.0.0.1", "port": 8470 } },
              "seeds": ["10.0.0.2:8470", "10.0.0.3:8470"],
              "debug": false
            }
            """;
        const string hoconForm = """
            # the agent
            agent {
              name = lab-1   // a comment after a value
              http.bind-address = "127.0.0.1"
              http { port : 8470 }
            }
            seeds = [
              "10.0.0.2:8470"
              "10.0.0.3:8470",
            ]
            debug = false
            """;

        Assert.Equal(Json(jsonForm), Json(hoconForm));
    }

    [Fact]
    public void KeyFollowedByBrace_MeansKeyColonObject()
    {
        Assert.Equal(Json("""{ "foo" : {} }"""), Json("""{ "foo" {} }"""));
        Assert.Equal("""{"foo":{"a":1}}""", Json("foo { a = 1 }"));
    }

    [Fact]
    public void OmittedRootBraces_ParseAsAnObject_AndAnEmptyFileIsAnEmptyObject()
    {
        Assert.Equal("""{"a":1,"b":2}""", Json("a = 1\nb = 2"));
        Assert.Equal("{}", Json(""));
        Assert.Equal("{}", Json("# only a comment\n"));
    }

    [Fact]
    public void ClosingBraceWithoutOpening_IsAnError()
    {
        var e = Error("a = 1\n}");

        Assert.Equal(new HoconPosition("test.conf", 2, 1), e.Position);
        Assert.Contains("unbalanced '}'", e.Message);
    }

    [Theory]
    [InlineData("[1,2,3,]")]
    [InlineData("[1\n2\n3]")]
    [InlineData("[1,\n2\n,3]")]
    public void ArraySeparators_TrailingCommaAndNewlines_AreTheSameArray(string array) =>
        Assert.Equal(Json("a = [1,2,3]"), Json("a = " + array));

    [Theory]
    [InlineData("a = [1,2,3,,]", 1, 12)]
    [InlineData("a = [,1,2,3]", 1, 6)]
    [InlineData("a = [1,,2,3]", 1, 8)]
    [InlineData("{ a : 1,, b : 2 }", 1, 9)]
    [InlineData("{ , a : 1 }", 1, 3)]
    public void DoubleOrInitialCommas_AreErrors_AtTheComma(string text, int line, int column)
    {
        var e = Error(text);

        Assert.Equal((line, column), (e.Position.Line, e.Position.Column));
        Assert.Contains("unexpected ','", e.Message);
    }

    [Fact]
    public void ObjectFields_TrailingCommaAndNewlines_AreTheSameObject() =>
        Assert.Equal(Json("{ a : 1, b : 2 }"), Json("{\n a : 1\n b : 2,\n}"));

    [Fact]
    public void Comments_HashAndDoubleSlash_AreIgnored_ExceptInsideQuotedStrings()
    {
        var o = Parse("""
            a = 1 # one
            // a whole line
            b = "x // not a comment # nor this"
            c = x/y   // a single slash is part of an unquoted string
            """);

        Assert.Equal(1, o.GetInt32("a"));
        Assert.Equal("x // not a comment # nor this", o.GetString("b"));
        Assert.Equal("x/y", o.GetString("c"));
        Assert.Equal(["a", "b", "c"], o.Keys);
    }

    [Fact]
    public void Whitespace_IncludesNonBreakingSpacesAndTheBom()
    {
        Assert.Equal("""{"a":1}""", Json("\uFEFFa\u00A0=\u20071"));
    }

    [Fact]
    public void QuotedStrings_DecodeJsonEscapes()
    {
        Assert.Equal("q\" b\\ s/ \b \f \n \r \t é", Parse("""a = "q\" b\\ s\/ \b \f \n \r \t \u00e9" """).GetString("a"));
    }

    [Fact]
    public void QuotedString_WithARawNewline_IsAnError_AtItsStart()
    {
        var e = Error("a = \"no end\nb = 1");

        Assert.Equal((1, 5), (e.Position.Line, e.Position.Column));
        Assert.Contains("unterminated quoted string", e.Message);
    }

    [Fact]
    public void InvalidEscape_IsAnError()
    {
        Assert.Contains("invalid escape '\\x'", Error("""a = "\x" """).Message);
    }

    [Fact]
    public void UnquotedStrings_RunToAForbiddenCharacter_AndKeepInnerWhitespace()
    {
        var o = Parse("a = foo bar baz \nb = some.host-name_1/x");

        Assert.Equal("foo bar baz", o.GetString("a"));
        Assert.Equal("some.host-name_1/x", o.GetString("b"));
        // "foo bar" written unquoted is the same seven characters as "foo bar" quoted
        Assert.Equal(Parse("""c = "foo bar" """).GetString("c"), Parse("c = foo bar").GetString("c"));
    }

    [Theory]
    [InlineData("a = truefoo", "truefoo")]
    [InlineData("a = footrue", "footrue")]
    [InlineData("a = 10.0bar", "10.0bar")]
    [InlineData("a = bar10.0", "bar10.0")]
    [InlineData("a = true foo", "true foo")]
    [InlineData("a = 1e5 x", "1e5 x")]
    public void KeywordsAndNumbers_InAConcatenation_BecomeTextAsWritten(string text, string expected) =>
        Assert.Equal(expected, Parse(text).GetString("a"));

    [Fact]
    public void ASingleValue_KeepsItsType()
    {
        Assert.Equal("""{"t":true,"f":false,"n":null,"i":42,"x":-1.5,"e":100000}""", Json("t = true, f = false, n = null, i = 42, x = -1.5, e = 1e5"));
        Assert.Equal(HoconValueType.Boolean, Parse("t = true").GetValue("t").Type);
    }

    [Theory]
    [InlineData("a = `x`", '`')]
    [InlineData("a = ^x", '^')]
    [InlineData("a = x!", '!')]
    [InlineData("a = @x", '@')]
    [InlineData("a = *", '*')]
    [InlineData("a = &x", '&')]
    [InlineData("a = x\\y", '\\')]
    [InlineData("a = ?", '?')]
    [InlineData("a = x+y", '+')]
    public void ForbiddenCharacters_OutsideQuotes_AreErrors(string text, char forbidden)
    {
        var e = Error(text);

        Assert.Contains($"'{forbidden}'", e.Message);
        Assert.Equal(1, e.Position.Line);
    }

    [Fact]
    public void ForbiddenCharacters_AreFineInsideQuotes() =>
        Assert.Equal("$ { } [ ] : = , + # ` ^ ? ! @ * & \\", Parse("""a = "$ { } [ ] : = , + # ` ^ ? ! @ * & \\" """).GetString("a"));

    [Fact]
    public void TripleQuotedStrings_SpanLines_WithoutEscapes_AndExtraQuotesBelongToTheString()
    {
        var o = Parse("a = \"\"\"line one\n  \"quoted\" \\n stays\"\"\"\nb = \"\"\"foo\"\"\"\"");

        Assert.Equal("line one\n  \"quoted\" \\n stays", o.GetString("a"));
        Assert.Equal("foo\"", o.GetString("b"));
    }

    [Fact]
    public void TripleQuotedString_KeepsLineNumbersRightAfterIt()
    {
        var e = Error("a = \"\"\"x\ny\nz\"\"\"\nb = }");

        Assert.Equal((4, 5), (e.Position.Line, e.Position.Column));
    }

    [Fact]
    public void ArraysWithoutCommas_WhitespaceConcatenates_NewlinesSeparate()
    {
        Assert.Equal("""["1 2 3 4"]""", Json(Parse("a = [ 1 2 3 4 ]").GetValue("a")));
        Assert.Equal("[1,2,3,4]", Json(Parse("a = [ 1\n 2\n 3\n 4 ]").GetValue("a")));
        Assert.Equal("[[1,2,3,4]]", Json(Parse("a = [ [ 1, 2 ] [ 3, 4 ] ]").GetValue("a")));
        Assert.Equal("[[1,2],[3,4]]", Json(Parse("a = [ [ 1, 2 ]\n [ 3, 4 ] ]").GetValue("a")));
    }

    [Fact]
    public void RootArray_IsRefused_ForAConfiguration() =>
        Assert.Contains("must be an object", Error("[1, 2]").Message);

    [Fact]
    public void IncludeAsAValue_IsJustAString()
    {
        Assert.Equal("""{"foo":"include","bar":["include"],"foo include":42,"include":1}""",
            Json("""{ foo : include, bar : [ include ], foo include : 42, "include" : 1 }"""));
    }
}
