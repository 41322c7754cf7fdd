namespace FineTuneAgent.Core.Plugins;

/// <summary>
/// A run's hold on the plugin build it started with. While any lease holds a build, a hot swap
/// leaves that build loaded (listed as draining) and the run keeps calling the same instance;
/// disposing the last lease of a superseded build unloads its context. Dispose it when the run
/// ends; disposing twice is harmless.
/// </summary>
public sealed class PluginLease<T> : IDisposable where T : class
{
    private readonly Action<PluginGeneration> _release;
    private PluginGeneration? _generation;
    private T? _instance;

    internal PluginLease(PluginGeneration generation, T instance, string name, Action<PluginGeneration> release)
    {
        _generation = generation;
        _instance = instance;
        _release = release;
        Name = name;
        Version = generation.Version;
        Folder = generation.Folder;
    }

    /// <summary>The template or method this run uses, from the build it leased.</summary>
    public T Instance => _instance ?? throw new ObjectDisposedException(nameof(PluginLease<T>), $"the lease on plugin '{Name}' {Version} was released");

    /// <summary>The implementation's name ("lora", "qwen3").</summary>
    public string Name { get; }

    /// <summary>The leased build's version.</summary>
    public string Version { get; }

    /// <summary>The plugin folder the build came from.</summary>
    public string Folder { get; }

    public void Dispose()
    {
        var generation = Interlocked.Exchange(ref _generation, null);
        if (generation is null)
            return;
        _instance = null;
        _release(generation);
    }
}
