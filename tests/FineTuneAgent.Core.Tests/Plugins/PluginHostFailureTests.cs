using FineTuneAgent.Core.Plugins;

namespace FineTuneAgent.Core.Tests.Plugins;

public sealed class PluginHostFailureTests : IDisposable
{
    private readonly TestPluginsFolder _plugins = new();

    public void Dispose() => _plugins.Dispose();

    [Fact]
    public void Load_BrokenPlugins_EachIsReportedWithItsReason_AndTheOthersKeepWorking()
    {
        _plugins.InstallBuilt("FineTuneAgent.Templates.Qwen3");
        _plugins.Install("HotSwapV1");
        var garbage = _plugins.InstallGarbage("FineTuneAgent.Methods.Garbage");
        var empty = _plugins.Install("NoImplementations");
        var throwing = _plugins.Install("ThrowingMethods");
        var stale = _plugins.Install("StaleContractMethod");
        var noDll = Directory.CreateDirectory(Path.Combine(_plugins.Path, "FineTuneAgent.Methods.NoDll")).FullName;

        using var host = PluginHost.Load(_plugins.Path);

        var garbageRow = Row(host, garbage);
        Assert.Equal(PluginStatus.Failed, garbageRow.Status);
        Assert.StartsWith("not a valid .NET assembly (BadImageFormatException", garbageRow.Reason);
        Assert.Null(garbageRow.Version);

        var emptyRow = Row(host, empty);
        Assert.Equal(PluginStatus.NoImplementations, emptyRow.Status);
        Assert.Equal("no implementations of IModelTemplate or IFineTuneMethod", emptyRow.Reason);
        Assert.Equal("0.1.0", emptyRow.Version);
        Assert.False(emptyRow.IsFailure);

        var throwingRow = Row(host, throwing);
        Assert.Equal(PluginStatus.Failed, throwingRow.Status);
        Assert.Contains("FineTuneAgent.TestPlugins.ThrowingMethods.ConstructorThrowsMethod: constructor threw InvalidOperationException: no GPU driver for this method", throwingRow.Reason);
        Assert.Contains("FineTuneAgent.TestPlugins.ThrowingMethods.TypeInitializerThrowsMethod: type initializer threw FormatException", throwingRow.Reason);

        // Built against another IFineTuneMethod: the type does not load against the host's contract.
        var staleRow = Row(host, stale);
        Assert.Equal(PluginStatus.Failed, staleRow.Status);
        Assert.Contains("StaleLoraMethod", staleRow.Reason);
        Assert.Contains("does not have an implementation", staleRow.Reason);

        Assert.Equal("FineTuneAgent.Methods.NoDll.dll not found", Row(host, noDll).Reason);

        Assert.Equal([garbage, noDll, stale, throwing], host.Failures.Select(f => f.Folder).Order(StringComparer.Ordinal));

        // The good plugins beside them load and serve.
        Assert.Equal("qwen3", host.TemplateFor("qwen3").Name);
        Assert.Equal("v1", host.Method("hotswap").Description);
        using var lease = host.AcquireMethod("hotswap");
        Assert.Equal("1.0.0", lease.Version);
    }

    [Fact]
    public void Method_Unknown_ListsTheAvailableMethods_TheEmptyPlugins_AndTheFailures()
    {
        _plugins.Install("HotSwapV1");
        _plugins.Install("NoImplementations");
        _plugins.Install("StaleContractMethod");

        using var host = PluginHost.Load(_plugins.Path);

        var e = Assert.Throws<KeyNotFoundException>(() => host.Method("lora"));
        Assert.StartsWith("no fine-tuning method named \"lora\" (available: hotswap; ", e.Message);
        Assert.Contains("plugins with no implementations yet: FineTuneAgent.TestPlugins.NoImplementations", e.Message);
        Assert.Contains($"plugins that failed to load: {Path.Combine(_plugins.Path, "FineTuneAgent.TestPlugins.StaleContractMethod")}: ", e.Message);
        Assert.Throws<KeyNotFoundException>(() => host.AcquireMethod("lora"));
        var template = Assert.Throws<KeyNotFoundException>(() => host.TemplateNamed("qwen3"));
        Assert.StartsWith("no model template named \"qwen3\" (available: none; ", template.Message);
    }

    [Fact]
    public void Load_MissingPluginsFolder_IsOneFailure_AndLookupsSayWhy()
    {
        var missing = Path.Combine(_plugins.Path, "nowhere");

        using var host = PluginHost.Load(missing);

        var row = Assert.Single(host.Plugins);
        Assert.Equal(PluginStatus.Failed, row.Status);
        Assert.Equal("plugins folder not found", row.Reason);
        var e = Assert.Throws<KeyNotFoundException>(() => host.TemplateFor("qwen3"));
        Assert.Contains("plugins folder not found", e.Message);
    }

    private static PluginInfo Row(PluginHost host, string folder) => Assert.Single(host.Plugins, p => p.Folder == folder);
}
