using FineTuneAgent.Core.Config.Hocon;
using static FineTuneAgent.Core.Tests.Config.HoconTestSupport;

namespace FineTuneAgent.Core.Tests.Config;

/// <summary>The spec's "Includes": syntax, merging, substitution fix-up, missing files, locating files.</summary>
public sealed class HoconIncludeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fta-hocon-include-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string relative, string text)
    {
        var path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private static HoconObject Load(string path) => HoconReader.ParseFile(path, new HoconOptions { EnvironmentVariable = _ => null });

    [Fact]
    public void Include_MergesTheFileInPlace_LaterKeysOverrideEarlier()
    {
        Write("extra.conf", "a = 2\nb = { y = 2 }\nc = 3");
        var main = Write("main.conf", "a = 1\nb = { x = 1 }\ninclude \"extra.conf\"\nc = 4");

        Assert.Equal("""{"a":2,"b":{"x":1,"y":2},"c":4}""", Json(Load(main)));
    }

    [Fact]
    public void Include_IsRelativeToTheIncludingFile_NotTheWorkingFolder()
    {
        Write("conf/sub/leaf.conf", "leaf = true");
        Write("conf/sub/mid.conf", "include \"leaf.conf\"\nmid = true");
        var main = Write("conf/main.conf", "include file(\"sub/mid.conf\")");
        // A leaf.conf in the working folder must not be the one found.
        Assert.False(File.Exists("leaf.conf"));

        Assert.Equal("""{"leaf":true,"mid":true}""", Json(Load(main)));
    }

    [Fact]
    public void MissingInclude_IsSilentlyIgnored()
    {
        var main = Write("main.conf", "a = 1\ninclude \"nowhere.conf\"\ninclude file(\"nowhere-either.conf\")");

        Assert.Equal("""{"a":1}""", Json(Load(main)));
    }

    [Theory]
    [InlineData("include required(\"nowhere.conf\")")]
    [InlineData("include required(file(\"nowhere.conf\"))")]
    [InlineData("include required( file( \"nowhere.conf\" ) )")]
    public void MissingRequiredInclude_IsAnError_AtTheFileName(string statement)
    {
        var main = Write("main.conf", "a = 1\n" + statement);

        var e = Assert.Throws<HoconException>(() => Load(main));

        Assert.Equal(main, e.Position.File);
        Assert.Equal(2, e.Position.Line);
        Assert.Equal(statement.IndexOf('"', StringComparison.Ordinal) + 1, e.Position.Column);
        Assert.Contains("required include \"nowhere.conf\" not found", e.Message);
    }

    [Fact]
    public void RequiredInclude_ThatExists_IsIncluded()
    {
        Write("r.conf", "r = 1");
        Assert.Equal("""{"r":1}""", Json(Load(Write("main.conf", "include required(\"r.conf\")"))));
    }

    [Fact]
    public void IncludeInsideAnObject_FixesUpSubstitutions_ToWhereItIsIncluded()
    {
        Write("foo.conf", "{ x : 10, y : ${x} }");

        Assert.Equal(10, Load(Write("a.conf", "{ a : { include \"foo.conf\" } }")).GetInt32("a.y"));
        Assert.Equal(42, Load(Write("b.conf", "{\n a : { include \"foo.conf\" }\n a : { x : 42 }\n}")).GetInt32("a.y"));
    }

    [Fact]
    public void IncludedSubstitution_FallsBackToTheRootPath()
    {
        Write("inner.conf", "port = ${default-port}");

        Assert.Equal(8470, Load(Write("main.conf", "default-port = 8470\nserver { include \"inner.conf\" }")).GetInt32("server.port"));
    }

    [Fact]
    public void IncludedPlusEquals_AppendsAtTheIncludedPath()
    {
        Write("more.conf", "seeds += b");

        Assert.Equal("""["a","b"]""", Json(Load(Write("main.conf", "cluster { seeds = [a]\n include \"more.conf\" }")).GetValue("cluster.seeds")));
    }

    [Fact]
    public void IncludeWithoutExtension_LoadsEveryKnownExtension_ConfAfterJson()
    {
        Write("base.json", """{ "a": 1, "b": 1 }""");
        Write("base.conf", "b = 2");

        Assert.Equal("""{"a":1,"b":2}""", Json(Load(Write("main.conf", "include \"base\""))));
    }

    [Fact]
    public void IncludeCycle_IsAnError()
    {
        Write("one.conf", "include \"two.conf\"");
        Write("two.conf", "include \"one.conf\"");

        Assert.Contains("include cycle: one.conf includes two.conf includes one.conf", Assert.Throws<HoconException>(() => Load(Path.Combine(_dir, "one.conf"))).Message);
    }

    [Fact]
    public void IncludedFile_ErrorsCarryItsOwnPosition()
    {
        var bad = Write("bad.conf", "ok = 1\nbroken = [1,,2]");

        var e = Assert.Throws<HoconException>(() => Load(Write("main.conf", "include \"bad.conf\"")));

        Assert.Equal(new HoconPosition(bad, 2, 13), e.Position);
    }

    [Fact]
    public void IncludedArray_IsAnError()
    {
        Write("arr.conf", "[1]");
        var main = Write("main.conf", "include \"arr.conf\"");

        Assert.Contains("must be an object", Assert.Throws<HoconException>(() => Load(main)).Message);
    }

    [Theory]
    [InlineData("include foo.conf", "include must be followed by a quoted file name")]
    [InlineData("include url(\"http://x/y.conf\")", "include url(...) is not supported")]
    [InlineData("include \"https://x/y.conf\"", "URLs are not supported")]
    [InlineData("include file(\"x.conf\"", "expected ')'")]
    public void MalformedIncludes_AreErrors(string statement, string message) =>
        Assert.Contains(message, Assert.Throws<HoconException>(() => Load(Write("main.conf", statement))).Message);
}
