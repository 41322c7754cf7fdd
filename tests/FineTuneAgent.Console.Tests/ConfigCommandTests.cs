using System.Text.Json;

namespace FineTuneAgent.Console.Tests;

public sealed class ConfigCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fta-config-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string text)
    {
        var path = Path.Combine(_dir, "agent.hocon");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void ConfigShowJson_FileOverDefaults_WithEnvironmentOverrides()
    {
        var file = Write("agent {\n  name = from-file\n  cluster.heartbeat-interval = 2500ms\n}\n");

        var (code, stdout, stderr) = Fta.RunWith(
            new Dictionary<string, string> { ["FTA_HTTP_PORT"] = "9300", ["FTA_LOG_LEVEL"] = "warning" },
            "config", "show", "--file", file, "--json");

        Assert.True(code == 0, stderr);
        Assert.Equal("", stderr);
        using var doc = JsonDocument.Parse(stdout);
        var agent = doc.RootElement.GetProperty("agent");
        Assert.Equal("from-file", agent.GetProperty("name").GetString());
        Assert.Equal(9300, agent.GetProperty("http").GetProperty("port").GetInt32());
        Assert.Equal("127.0.0.1", agent.GetProperty("http").GetProperty("bind-address").GetString());
        Assert.Equal(1_048_576, agent.GetProperty("http").GetProperty("max-request-body-size").GetInt64());
        Assert.Equal("warning", agent.GetProperty("logging").GetProperty("level").GetString());
        Assert.Equal("2500ms", agent.GetProperty("cluster").GetProperty("heartbeat-interval").GetString());
        Assert.Equal(1024, agent.GetProperty("training").GetProperty("cutoff-len").GetInt32());
    }

    [Fact]
    public void ConfigShow_WrongType_ExitsOne_WithPathAndPosition_AndWarnsAboutUnknownKeys()
    {
        var file = Write("agent.http.port = abc\nagent.logging.levle = debug\n");

        var (code, stdout, stderr) = Fta.Run("config", "show", "--file", file);

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Contains($"fta: error: agent.http.port: expected a number, got \"abc\" ({file}:1:19)", stderr);
        Assert.Contains($"fta: warning: agent.logging.levle: unknown setting; did you mean 'level'? ({file}:2:23)", stderr);
    }

    [Fact]
    public void ConfigShow_SyntaxError_ExitsOne_WithFileLineColumn()
    {
        var file = Write("agent {\n  http { port = 1 }\n  name = [1,,2]\n}\n");

        var (code, _, stderr) = Fta.Run("config", "show", "--file", file);

        Assert.Equal(1, code);
        Assert.Equal($"fta: error: {file}:3:13: unexpected ',' (a comma goes after an element, and only one)", stderr.Trim());
    }

    [Fact]
    public void ConfigShow_WithoutJson_PrintsHoconThatReadsBackToTheSameSettings()
    {
        var file = Write("agent.http.port = 9400\n");

        var (code, stdout, stderr) = Fta.Run("config", "show", "--file", file);
        Assert.True(code == 0, stderr);
        var shown = Write(stdout);
        var again = Fta.Run("config", "show", "--file", shown, "--json");
        var first = Fta.Run("config", "show", "--file", file, "--json");

        Assert.Contains("port = 9400", stdout);
        Assert.Equal(first.stdout, again.stdout);
    }
}
