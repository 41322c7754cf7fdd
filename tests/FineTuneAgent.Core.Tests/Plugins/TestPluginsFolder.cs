using System.Reflection;

namespace FineTuneAgent.Core.Tests.Plugins;

/// <summary>
/// A temporary plugins folder the tests fill with builds of the test plugins
/// (tests/FineTuneAgent.TestPlugins), the real plugins and broken files, as a developer's
/// rebuilds would: installing a build copies its files over the plugin's folder in place.
/// </summary>
internal sealed class TestPluginsFolder : IDisposable
{
    public TestPluginsFolder()
    {
        Directory.CreateDirectory(Path);
    }

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"fta-plugins-{Guid.NewGuid():N}");

    /// <summary>The plugins Core.Tests' build copied beside it (the real templates and methods).</summary>
    public static string BuiltPlugins => System.IO.Path.Combine(AppContext.BaseDirectory, "plugins");

    /// <summary>The output folder of a test plugin build ("HotSwapV1", "ThrowingMethods", …).</summary>
    public static string Build(string key) =>
        typeof(TestPluginsFolder).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == $"TestPlugin:{key}").Value!;

    /// <summary>Copies a test plugin build into &lt;Path&gt;/&lt;AssemblyName&gt;/, overwriting a build already there; returns that folder.</summary>
    public string Install(string key)
    {
        var build = Build(key);
        var name = System.IO.Path.GetFileName(Directory.GetFiles(build, "*.deps.json").Single())[..^".deps.json".Length];
        return CopyFolder(build, name);
    }

    /// <summary>Copies one of the real plugins (by folder name) in.</summary>
    public string InstallBuilt(string name) => CopyFolder(System.IO.Path.Combine(BuiltPlugins, name), name);

    /// <summary>A plugin folder whose dll is not an assembly.</summary>
    public string InstallGarbage(string name)
    {
        var folder = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(folder);
        File.WriteAllText(System.IO.Path.Combine(folder, name + ".dll"), "not an assembly");
        return folder;
    }

    public void Dispose()
    {
        if (Directory.Exists(Path))
            Directory.Delete(Path, recursive: true);
    }

    private string CopyFolder(string from, string name)
    {
        var to = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
            File.Copy(file, System.IO.Path.Combine(to, System.IO.Path.GetFileName(file)), overwrite: true);
        return to;
    }
}
