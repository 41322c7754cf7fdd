using FineTuneAgent.Core.Config.Hocon;
using static FineTuneAgent.Core.Tests.Config.HoconTestSupport;

namespace FineTuneAgent.Core.Tests.Config;

/// <summary>The spec's "Substitutions", "Self-Referential Substitutions" and "+=", with its examples.</summary>
public sealed class HoconSubstitutionTests
{
    [Fact]
    public void Substitution_AloneKeepsItsType_InAConcatenationBecomesText()
    {
        var o = Parse("""
            animal.favorite = fox
            a = ${animal.favorite} is my favorite animal
            b = ${animal.favorite}" is my favorite animal"
            n = 42
            copy = ${n}
            text = ${n} apples
            """);

        Assert.Equal("fox is my favorite animal", o.GetString("a"));
        Assert.Equal("fox is my favorite animal", o.GetString("b"));
        Assert.Equal(HoconValueType.Number, o.GetValue("copy").Type);
        Assert.Equal("42 apples", o.GetString("text"));
    }

    [Fact]
    public void Substitution_InsideQuotes_IsLiteralText() =>
        Assert.Equal("${b}", Parse("b = 1, a = \"${b}\"").GetString("a"));

    [Fact]
    public void Substitution_LooksForward_AndSeesTheFinalValue()
    {
        var o = Parse("a = ${b}\nb = 1\nb = 2\nc = ${d.e}\nd { e = { f = 1 } }\nd.e.g = 2");

        Assert.Equal(2, o.GetInt32("a"));
        Assert.Equal("""{"f":1,"g":2}""", Json(o.GetValue("c")));
    }

    [Fact]
    public void Substitution_OfAnObject_CopiesTheWholeObject()
    {
        Assert.Equal("""{"foo":{"a":1},"bar":{"a":1}}""", Json("foo : { a : 1 }\nbar : ${foo}"));
    }

    [Fact]
    public void ObjectReferringToItsOwnField_ResolvesOnlyThatField()
    {
        Assert.Equal(42, Parse("bar : { foo : 42,\n baz : ${bar.foo}\n }").GetInt32("bar.baz"));
        Assert.Equal(43, Parse("bar : { foo : 42,\n baz : ${bar.foo}\n }\nbar : { foo : 43 }").GetInt32("bar.baz"));
    }

    [Fact]
    public void MutuallyReferringObjects_LookForward()
    {
        var o = Parse("""
            bar : { a : ${foo.d}, b : 1 }
            bar.b = 3
            foo : { c : ${bar.b}, d : 2 }
            foo.d = 4
            """);

        Assert.Equal(4, o.GetInt32("bar.a"));
        Assert.Equal(3, o.GetInt32("foo.c"));
    }

    [Fact]
    public void SelfReference_BuildsOnTheEarlierValue()
    {
        Assert.Equal("a:b:c:d", Parse("path : \"a:b:c\"\npath : ${path}\":d\"").GetString("path"));
        Assert.Equal("""{"a":1}""", Json(Parse("foo : { a : 1 }\nfoo : ${foo}").GetValue("foo")));
    }

    [Fact]
    public void SelfReference_WithNoEarlierValue_IsUndefined_AnError()
    {
        var e = Error("foo : ${foo}");

        Assert.Equal((1, 7), (e.Position.Line, e.Position.Column));
        Assert.Contains("cannot resolve ${foo}", e.Message);
    }

    [Fact]
    public void SelfReference_BeforeTheValueItRefersTo_IsAnError() =>
        Assert.Contains("cannot resolve ${foo}", Error("foo : ${foo}\nfoo : { a : 1 }").Message);

    [Fact]
    public void OptionalSelfReference_WithNoEarlierValue_LeavesNoField()
    {
        Assert.Equal("{}", Json("foo : ${?foo}"));
        Assert.Equal("""{"a":"foo"}""", Json("a = ${?a}foo"));
    }

    [Fact]
    public void HiddenSubstitution_IsNeverEvaluated()
    {
        Assert.Equal("""{"foo":42}""", Json("foo : ${does-not-exist}\nfoo : 42"));
        Assert.Equal("""{"foo":42}""", Json("foo : ${foo}, foo : 42"));
    }

    [Fact]
    public void SelfReference_InAPathExpression_ResolvesToTheValueBelow()
    {
        Assert.Equal("""{"a":2,"c":1}""", Json(Parse("foo : { a : { c : 1 } }\nfoo : ${foo.a}\nfoo : { a : 2 }").GetValue("foo")));
    }

    [Theory]
    [InlineData("bar : ${foo}\nfoo : ${bar}")]
    [InlineData("a : ${b}\nb : ${c}\nc : ${a}")]
    [InlineData("a : { b : ${a} }")]
    [InlineData("a : [${a}]")]
    public void Cycles_AreErrors(string text) =>
        Assert.Contains("cycle", Error(text).Message);

    [Fact]
    public void Cycle_Error_NamesTheSubstitutionsAndWhereTheyAre()
    {
        var e = Error("bar : ${foo}\nfoo : ${bar}");

        Assert.Contains("${foo} at test.conf:1:7", e.Message);
        Assert.Contains("${bar} at test.conf:2:7", e.Message);
    }

    [Fact]
    public void TwoFieldsReferringToEachOther_OverEarlierValues_GetTheSameValue()
    {
        // The spec leaves the value open (1, 2 or an error) but requires a and b to agree.
        var o = Parse("a : 1\nb : 2\na : ${b}\nb : ${a}");

        Assert.Equal(o.GetInt32("a"), o.GetInt32("b"));
    }

    [Fact]
    public void PlusEquals_AppendsToAnArray_AndMayComeFirst()
    {
        Assert.Equal("""{"a":["b"]}""", Json("a += b"));
        Assert.Equal("""{"a":[1,2,3]}""", Json("a = [1]\na += 2\na += 3"));
        Assert.Equal("""{"x":{"a":[1,2]}}""", Json("x { a = [1] }\nx { a += 2 }"));
    }

    [Fact]
    public void PlusEquals_OnANonArray_IsAnError() =>
        Assert.Contains("cannot concatenate 1 with an array", Error("a = 1\na += 2").Message);

    [Fact]
    public void UndefinedOptional_LeavesTheEarlierValue_DropsArrayElements_AndIsEmptyInText()
    {
        var o = Parse("""
            foo = 1
            foo = ${?nope}
            list = [1, ${?nope}, 2]
            text = x${?nope}y
            arr = [1] ${?nope}
            both = ${?nope}${?nada}
            """);

        Assert.Equal(1, o.GetInt32("foo"));
        Assert.Equal("[1,2]", Json(o.GetValue("list")));
        Assert.Equal("xy", o.GetString("text"));
        Assert.Equal("[1]", Json(o.GetValue("arr")));
        Assert.False(o.HasPath("both"));
    }

    [Fact]
    public void UndefinedRequiredSubstitution_IsAnError_AtItsPosition()
    {
        var e = Error("a = 1\nb = x ${missing.path}");

        Assert.Equal(new HoconPosition("test.conf", 2, 7), e.Position);
        Assert.Contains("cannot resolve ${missing.path}", e.Message);
    }

    [Fact]
    public void Environment_IsTheFallback_ForWhatTheConfigurationDoesNotSet()
    {
        var env = new Dictionary<string, string> { ["FTA_PORT"] = "9000", ["HOME"] = "/home/x", ["EMPTY"] = "", ["set"] = "from-env" };
        var o = Parse("""
            port = 8470
            port = ${?FTA_PORT}
            home = ${HOME}/data
            empty = ${?EMPTY}
            set = from-file
            value = ${set}
            """, env);

        // Environment variables are strings; the getters convert.
        Assert.Equal(HoconValueType.String, o.GetValue("port").Type);
        Assert.Equal(9000, o.GetInt32("port"));
        Assert.Equal("/home/x/data", o.GetString("home"));
        Assert.Equal("", o.GetString("empty"));
        Assert.Equal("from-file", o.GetString("value"));
        Assert.Equal("environment variable FTA_PORT", o.GetValue("port").Position.Via);
    }

    [Fact]
    public void ASettingSetToNull_IsNotLookedUpInTheEnvironment()
    {
        var o = Parse("HOME : null\nh = ${HOME}", new Dictionary<string, string> { ["HOME"] = "/home/x" });

        Assert.Equal(HoconValueType.Null, o.GetValue("h").Type);
    }

    [Fact]
    public void Fallback_SitsUnderTheDocument_AndItsValuesCanBeReferredTo()
    {
        var reference = Parse("agent { http { port = 8470, bind = \"127.0.0.1\" }, seeds = [a] }");
        var o = HoconReader.Parse("agent.http.port = 9000\nagent.seeds = ${agent.seeds} [b]\nmirror = ${agent.http.bind}", "app.conf",
            new HoconOptions { Fallback = reference, EnvironmentVariable = _ => null });

        Assert.Equal("""{"agent":{"http":{"port":9000,"bind":"127.0.0.1"},"seeds":["a","b"]},"mirror":"127.0.0.1"}""", Json(o));
    }
}
