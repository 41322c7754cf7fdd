using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Core.Plugins;

namespace FineTuneAgent.Core.Tests.Plugins;

/// <summary>
/// Rebuilding a plugin in place while the agent runs: two builds of one test plugin
/// (HotSwapMethod V1 and V2, answering "v1" / "v2") installed one over the other.
/// </summary>
public sealed class PluginHostHotSwapTests : IDisposable
{
    private readonly TestPluginsFolder _plugins = new();

    public void Dispose() => _plugins.Dispose();

    [Fact]
    public void Refresh_RebuildWhileARunHoldsV1_NewRunsGetV2_TheOldRunFinishesOnV1_ThenV1IsUnloadedAndCollected()
    {
        var folder = _plugins.Install("HotSwapV1");
        using var host = PluginHost.Load(_plugins.Path);
        var (oldRun, v1Context, v1Unloading) = StartRun(host);

        _plugins.Install("HotSwapV2");   // overwrites the dll v1 was loaded from
        Assert.True(host.Refresh());

        using (var newRun = host.AcquireMethod("hotswap"))
        {
            Assert.Equal("2.0.0", newRun.Version);
            Assert.Equal("v2", newRun.Instance.Description);
            Assert.Equal("v2", Build(newRun.Instance));
            Assert.False(IsIn(newRun.Instance, v1Context));
        }
        Assert.Equal("v2", host.Method("hotswap").Description);

        // The superseded build is listed as draining while the old run holds it.
        var draining = Assert.Single(host.Plugins, p => p.Status == PluginStatus.Draining);
        Assert.Equal(("hotswap", "1.0.0", folder, 1), (draining.Name, draining.Version, draining.Folder, draining.Leases));
        Assert.Equal("2.0.0", Assert.Single(host.Plugins, p => p.Status == PluginStatus.Loaded).Version);

        // The old run keeps working on v1's code and objects after the swap, then ends.
        Assert.Equal("1.0.0", oldRun.Version);
        Assert.False(v1Unloading.Value);
        Assert.True(FinishRun(oldRun, v1Context));

        // Releasing the last lease unloads v1 at once; the GC then collects it, as nothing refers to it.
        Assert.True(v1Unloading.Value);
        Assert.DoesNotContain(host.Plugins, p => p.Status == PluginStatus.Draining);
        Assert.True(WaitForCollection(v1Context), "the v1 load context was not collected after its last lease was released");
        Assert.Equal("v2", host.Method("hotswap").Description);
    }

    [Fact]
    public void Refresh_UnchangedFolder_LoadsNothing_AndARewriteOfTheSameBytesIsNoChange()
    {
        _plugins.Install("HotSwapV1");
        using var host = PluginHost.Load(_plugins.Path);
        var before = host.Method("hotswap");

        Assert.False(host.Refresh());
        _plugins.Install("HotSwapV1");   // new timestamps, same bytes
        Assert.False(host.Refresh());

        Assert.Same(before, host.Method("hotswap"));
    }

    [Fact]
    public void Refresh_HalfWrittenRebuild_IsReported_ThePreviousBuildKeepsServing_AndTheFinishedBuildLoads()
    {
        var folder = _plugins.Install("HotSwapV1");
        using var host = PluginHost.Load(_plugins.Path);
        var dll = Path.Combine(folder, "FineTuneAgent.TestPlugins.HotSwapMethod.dll");
        var v2 = File.ReadAllBytes(Path.Combine(TestPluginsFolder.Build("HotSwapV2"), "FineTuneAgent.TestPlugins.HotSwapMethod.dll"));

        File.WriteAllBytes(dll, v2[..(v2.Length / 2)]);   // the build is still writing
        Assert.True(host.Refresh());

        var row = Assert.Single(host.Plugins);
        Assert.Equal((PluginStatus.ReloadFailed, "1.0.0"), (row.Status, row.Version));
        Assert.Contains("a newer build failed to load (", row.Reason);
        Assert.Contains("still serving 1.0.0", row.Reason);
        Assert.Equal(folder, Assert.Single(host.Failures).Folder);
        Assert.Equal("v1", host.Method("hotswap").Description);
        Assert.False(host.Refresh());   // the same broken files are not tried again

        _plugins.Install("HotSwapV2");   // the build finished
        Assert.True(host.Refresh());

        Assert.Equal((PluginStatus.Loaded, "2.0.0"), (Assert.Single(host.Plugins).Status, Assert.Single(host.Plugins).Version));
        Assert.Empty(host.Failures);
        Assert.Equal("v2", host.Method("hotswap").Description);
    }

    [Fact]
    public void Refresh_RebuildWithNoImplementations_KeepsServingThePreviousBuild()
    {
        var folder = _plugins.Install("HotSwapV1");
        using var host = PluginHost.Load(_plugins.Path);
        var empty = _plugins.Install("NoImplementations");
        foreach (var file in Directory.GetFiles(empty))
            File.Move(file, Path.Combine(folder, Path.GetFileName(file).Replace("NoImplementations", "HotSwapMethod", StringComparison.Ordinal)), overwrite: true);
        Directory.Delete(empty);

        Assert.True(host.Refresh());

        var row = Assert.Single(host.Plugins);
        Assert.Equal(PluginStatus.ReloadFailed, row.Status);
        Assert.Contains("no implementations", row.Reason);
        Assert.Equal("v1", host.Method("hotswap").Description);
    }

    [Fact]
    public void Refresh_PluginFolderRemoved_WhileLeased_DrainsThenUnloads()
    {
        var folder = _plugins.Install("HotSwapV1");
        using var host = PluginHost.Load(_plugins.Path);
        var (run, context, unloading) = StartRun(host);

        Directory.Delete(folder, recursive: true);
        Assert.True(host.Refresh());

        Assert.Throws<KeyNotFoundException>(() => host.Method("hotswap"));
        Assert.Equal(PluginStatus.Draining, Assert.Single(host.Plugins).Status);
        Assert.False(unloading.Value);
        Assert.True(FinishRun(run, context));
        Assert.True(unloading.Value);
        Assert.Empty(host.Plugins);
        Assert.True(WaitForCollection(context));
    }

    [Fact]
    public async Task Watch_RebuildInPlace_IsPickedUpWithoutAnExplicitRefresh()
    {
        _plugins.Install("HotSwapV1");
        using var host = PluginHost.Load(_plugins.Path, new PluginHostOptions { Watch = true, Debounce = TimeSpan.FromMilliseconds(50) });
        var swapped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Refreshed += (_, _) =>
        {
            if (host.Plugins.Any(p => p is { Name: "hotswap", Version: "2.0.0", Status: PluginStatus.Loaded }))
                swapped.TrySetResult();
        };
        Assert.Equal("v1", host.Method("hotswap").Description);

        _plugins.Install("HotSwapV2");

        // Only a guard against hanging forever if the watcher never fires; the swap takes milliseconds.
        await swapped.Task.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal("v2", host.Method("hotswap").Description);
    }

    /// <summary>Starts a "run" on the current build; kept out of the test's frame so no local there holds the plugin's objects.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (PluginLease<IFineTuneMethod> Lease, WeakReference Context, StrongBox<bool> Unloading) StartRun(PluginHost host)
    {
        var lease = host.AcquireMethod("hotswap");
        Assert.Equal("v1", lease.Instance.Description);
        var context = AssemblyLoadContext.GetLoadContext(lease.Instance.GetType().Assembly)!;
        Assert.True(context.IsCollectible);
        var unloading = new StrongBox<bool>();
        context.Unloading += _ => unloading.Value = true;
        return (lease, new WeakReference(context), unloading);
    }

    /// <summary>Ends a run: checks it still runs v1's code in v1's context, then releases its lease. Out of the test's frame, like StartRun.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool FinishRun(PluginLease<IFineTuneMethod> run, WeakReference v1Context)
    {
        Assert.Equal("v1", run.Instance.Description);
        Assert.Equal("v1", Build(run.Instance));
        Assert.True(IsIn(run.Instance, v1Context));
        run.Dispose();
        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool IsIn(object instance, WeakReference context) =>
        ReferenceEquals(AssemblyLoadContext.GetLoadContext(instance.GetType().Assembly), context.Target);

    /// <summary>Calls into the method the way a run would, creating objects of the plugin's own types; returns the build that answered.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string Build(IFineTuneMethod method)
    {
        var settings = method.ParseSettings(new JsonObject { ["steps"] = 3 });
        var json = settings.ToJson();
        Assert.Equal(3, json["steps"]!.GetValue<int>());
        return json["build"]!.GetValue<string>();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool WaitForCollection(WeakReference context)
    {
        for (var i = 0; i < 50 && context.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        return !context.IsAlive;
    }
}
