using FineTuneAgent.Core.Plugins;

namespace FineTuneAgent.Core.Tests.Plugins;

public sealed class PluginLeaseTests : IDisposable
{
    private readonly TestPluginsFolder _plugins = new();

    public void Dispose() => _plugins.Dispose();

    [Fact]
    public void Dispose_LeaseOnTheCurrentBuild_KeepsItLoaded_AndIsIdempotent()
    {
        _plugins.Install("HotSwapV1");
        using var host = PluginHost.Load(_plugins.Path);
        var current = host.Method("hotswap");
        var lease = host.AcquireMethod("hotswap");
        Assert.Same(current, lease.Instance);
        Assert.Equal(1, Assert.Single(host.Plugins).Leases);

        lease.Dispose();
        lease.Dispose();

        Assert.Equal(0, Assert.Single(host.Plugins).Leases);
        Assert.Equal(PluginStatus.Loaded, Assert.Single(host.Plugins).Status);
        Assert.Same(current, host.Method("hotswap"));
        Assert.Throws<ObjectDisposedException>(() => lease.Instance);
    }

    [Fact]
    public void AcquireTemplate_ByNameAndModelType_LeaseTheBuiltTemplates()
    {
        using var host = PluginHost.Load(TestPluginsFolder.BuiltPlugins);
        using var byName = host.AcquireTemplate("llama");
        using var byType = host.AcquireTemplateFor("qwen3");

        Assert.Same(host.TemplateNamed("llama"), byName.Instance);
        Assert.Equal("qwen3", byType.Name);
        Assert.Equal(Path.Combine(TestPluginsFolder.BuiltPlugins, "FineTuneAgent.Templates.Qwen3"), byType.Folder);
        Assert.Equal(1, Assert.Single(host.Plugins, p => p.Name == "qwen3").Leases);
    }
}
