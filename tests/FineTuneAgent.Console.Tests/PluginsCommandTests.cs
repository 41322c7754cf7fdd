using System.Text.Json;

namespace FineTuneAgent.Console.Tests;

public sealed class PluginsCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"fta-plugins-cli-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Plugins_Json_ListsTheTemplatesWithKindAndVersion_AndEveryPluginFolder()
    {
        var (code, stdout, stderr) = Fta.Run("plugins", "--json");

        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var folder = doc.RootElement.GetProperty("folder").GetString()!;
        var plugins = doc.RootElement.GetProperty("plugins").EnumerateArray().ToList();
        foreach (var name in new[] { "qwen3", "llama" })
        {
            var row = Assert.Single(plugins, p => p.GetProperty("name").GetString() == name);
            Assert.Equal("template", row.GetProperty("kind").GetString());
            Assert.Equal("loaded", row.GetProperty("status").GetString());
            Assert.StartsWith("1.0.0", row.GetProperty("version").GetString());
            Assert.StartsWith(Path.Combine(folder, "FineTuneAgent.Templates."), row.GetProperty("folder").GetString());
            Assert.False(row.TryGetProperty("reason", out _));
        }
        // Every folder is listed, the method plugins too, whether they hold implementations yet or not.
        Assert.Equal(Directory.GetDirectories(folder).Order(), plugins.Select(p => p.GetProperty("folder").GetString()!).Distinct().Order());
        Assert.All(plugins, p => Assert.Contains(p.GetProperty("status").GetString(), new[] { "loaded", "no-implementations" }));
    }

    [Fact]
    public void Plugins_BrokenFolder_IsListedWithItsReason_BesideTheWorkingOnes()
    {
        var builtPlugins = JsonDocument.Parse(Fta.Run("plugins", "--json").stdout).RootElement.GetProperty("folder").GetString()!;
        CopyFolder(Path.Combine(builtPlugins, "FineTuneAgent.Templates.Qwen3"), Path.Combine(_dir, "FineTuneAgent.Templates.Qwen3"));
        Directory.CreateDirectory(Path.Combine(_dir, "FineTuneAgent.Methods.Broken"));
        File.WriteAllText(Path.Combine(_dir, "FineTuneAgent.Methods.Broken", "FineTuneAgent.Methods.Broken.dll"), "not an assembly");
        var environment = new Dictionary<string, string> { ["FTA_PLUGINS_DIR"] = _dir };

        var json = Fta.RunWith(environment, "plugins", "--json");
        var table = Fta.RunWith(environment, "plugins");

        Assert.True(json.exitCode == 0, json.stderr);
        using var doc = JsonDocument.Parse(json.stdout);
        var plugins = doc.RootElement.GetProperty("plugins").EnumerateArray().ToList();
        Assert.Equal(2, plugins.Count);
        var broken = Assert.Single(plugins, p => p.GetProperty("status").GetString() == "failed");
        Assert.Equal("FineTuneAgent.Methods.Broken", broken.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, broken.GetProperty("kind").ValueKind);
        Assert.StartsWith("not a valid .NET assembly", broken.GetProperty("reason").GetString());
        Assert.Equal("loaded", Assert.Single(plugins, p => p.GetProperty("name").GetString() == "qwen3").GetProperty("status").GetString());

        // The table, as a user reading a redirected output sees it: plain text, one line per plugin.
        Assert.True(table.exitCode == 0, table.stderr);
        Assert.DoesNotContain("\u001b[", table.stdout);
        var lines = table.stdout.Split('\n');
        Assert.Contains(lines, l => l.Contains("FineTuneAgent.Methods.Broken", StringComparison.Ordinal) && l.Contains("failed: not a valid .NET assembly", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("qwen3", StringComparison.Ordinal) && l.Contains("template", StringComparison.Ordinal) && l.Contains("loaded", StringComparison.Ordinal));
        Assert.Contains($"plugins folder: {_dir}", table.stdout);
    }

    [Fact]
    public void ModelInit_WithABrokenPluginBeside_StillWorks_AndAnUnknownTemplateNamesTheFailure()
    {
        var builtPlugins = JsonDocument.Parse(Fta.Run("plugins", "--json").stdout).RootElement.GetProperty("folder").GetString()!;
        var plugins = Path.Combine(_dir, "plugins");
        CopyFolder(Path.Combine(builtPlugins, "FineTuneAgent.Templates.Qwen3"), Path.Combine(plugins, "FineTuneAgent.Templates.Qwen3"));
        Directory.CreateDirectory(Path.Combine(plugins, "FineTuneAgent.Templates.Broken"));
        File.WriteAllText(Path.Combine(plugins, "FineTuneAgent.Templates.Broken", "FineTuneAgent.Templates.Broken.dll"), "not an assembly");
        var environment = new Dictionary<string, string> { ["FTA_PLUGINS_DIR"] = plugins };

        var ok = Fta.RunWith(environment, "model", "init", "--template", "qwen3", "--out", Path.Combine(_dir, "model"));
        var missing = Fta.RunWith(environment, "model", "init", "--template", "llama", "--out", Path.Combine(_dir, "other"));

        Assert.True(ok.exitCode == 0, ok.stderr);
        Assert.Equal(1, missing.exitCode);
        Assert.Contains("no model template named \"llama\" (available: qwen3; plugins that failed to load: ", missing.stderr);
        Assert.Contains("FineTuneAgent.Templates.Broken: not a valid .NET assembly", missing.stderr);
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }
}
