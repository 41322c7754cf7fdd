using static FineTuneAgent.Core.Tests.Config.HoconTestSupport;

namespace FineTuneAgent.Core.Tests.Config;

/// <summary>The spec's "Duplicate keys and object merging" and "Value concatenation", with its examples.</summary>
public sealed class HoconMergeAndConcatenationTests
{
    [Fact]
    public void DuplicateObjects_Merge()
    {
        Assert.Equal(
            Json("""{ "foo" : { "a" : 42, "b" : 43 } }"""),
            Json("""{ "foo" : { "a" : 42 }, "foo" : { "b" : 43 } }"""));
    }

    [Fact]
    public void AnIntermediateNull_PreventsTheMerge()
    {
        Assert.Equal(
            Json("""{ "foo" : { "b" : 43 } }"""),
            Json("""{ "foo" : { "a" : 42 }, "foo" : null, "foo" : { "b" : 43 } }"""));
    }

    [Fact]
    public void LaterNonObjectValues_Override()
    {
        Assert.Equal("""{"a":2,"b":{"x":1}}""", Json("a = 1, b = 5, a = 2, b = { x = 1 }"));
        Assert.Equal("""{"a":"s"}""", Json("a = { x = 1 }, a = s"));
    }

    [Fact]
    public void ObjectMerge_IsRecursive_LaterWinsAtTheLeaves()
    {
        Assert.Equal("""{"a":{"x":{"p":1,"q":3},"y":2,"z":4}}""",
            Json("a { x { p = 1, q = 2 }, y = 2 }\na { x { q = 3 }, z = 4 }"));
    }

    [Fact]
    public void MergeOfThreeObjects_NonObjectInTheMiddle_Hides()
    {
        // The spec's pairwise rule: { y : 2 } then 42 then { x : 1 } — 42 hides the first object.
        Assert.Equal("""{"a":{"x":1}}""", Json("a : { y : 2 }\na : 42\na : { x : 1 }"));
        // Re-ordered so the objects are adjacent: they merge.
        Assert.Equal("""{"a":{"y":2,"x":1}}""", Json("a : 42\na : { y : 2 }\na : { x : 1 }"));
    }

    [Fact]
    public void ThreeWaysToWriteTheSameObject()
    {
        var expected = Json("a : { b : 1, c : 2 }");

        Assert.Equal(expected, Json("a : { b : 1 } { c : 2 }"));
        Assert.Equal(expected, Json("a : { b : 1 }\na : { c : 2 }"));
    }

    [Fact]
    public void FourWaysToWriteTheSameArray()
    {
        var expected = Json("a : [ 1, 2, 3, 4 ]");

        Assert.Equal(expected, Json("a : [ 1, 2 ] [ 3, 4 ]"));
        Assert.Equal(expected, Json("a : [ 1, 2 ]\na : ${a} [ 3, 4 ]"));
        Assert.Equal("""{"a":[1,2,3,4]}""", expected);
    }

    [Fact]
    public void ObjectConcatenation_Inheritance()
    {
        Assert.Equal("""{"cluster-size":6,"name":"east"}""",
            Json(Parse("data-center-generic = { cluster-size = 6 }\ndata-center-east = ${data-center-generic} { name = \"east\" }").GetValue("data-center-east")));
    }

    [Fact]
    public void ArrayConcatenation_AddsToPaths()
    {
        Assert.Equal("""["/bin","/usr/bin"]""", Json(Parse("path = [ /bin ]\npath = ${path} [ /usr/bin ]").GetValue("path")));
    }

    [Fact]
    public void StringConcatenation_KeepsInnerWhitespace_AndNumbersAsWritten()
    {
        var o = Parse("a = \"x\"  y 1.50\tz\nb = foo\"bar\"\nc = null x");

        Assert.Equal("x  y 1.50\tz", o.GetString("a"));
        Assert.Equal("foobar", o.GetString("b"));
        Assert.Equal("null x", o.GetString("c"));
    }

    [Theory]
    [InlineData("a = [1] x", "cannot concatenate an array with \"x\"")]
    [InlineData("a = { b = 1 } [2]", "cannot concatenate an object with an array")]
    [InlineData("a = x { b = 1 }", "cannot concatenate \"x\" with an object")]
    public void MixedConcatenations_AreErrors(string text, string message) =>
        Assert.Contains(message, Error(text).Message);

    [Fact]
    public void MixedConcatenation_ThroughASubstitution_IsAnError_AtTheSubstitution()
    {
        var e = Error("a = [1]\nb = ${a} x");

        Assert.Contains("cannot concatenate", e.Message);
        Assert.Equal((2, 5), (e.Position.Line, e.Position.Column));
    }

    [Fact]
    public void ObjectsInsideArrays_AreStandaloneValues()
    {
        Assert.Equal("""[{"a":1,"b":2},{"a":3}]""", Json(Parse("l = [ { a = 1, b = 1, b = 2 }, { a = 3 } ]").GetValue("l")));
    }

    [Fact]
    public void ConcatenationInArrays_WithSubstitutions_AsInTheSpec()
    {
        var o = Parse("name = Ann\nworld = Earth\na = 1\nb = 2\nx = [3]\ny = [4]\n"
            + "l = [ This is an unquoted string my name is ${name}, Hello ${world} ]\n"
            + "m = [ ${a} ${b}, ${x} ${y} ]");

        Assert.Equal("""["This is an unquoted string my name is Ann","Hello Earth"]""", Json(o.GetValue("l")));
        Assert.Equal("""["1 2",[3,4]]""", Json(o.GetValue("m")));
    }
}
