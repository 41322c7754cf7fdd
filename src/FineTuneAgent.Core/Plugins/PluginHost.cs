using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Abstractions.Templates;

namespace FineTuneAgent.Core.Plugins;

/// <summary>
/// The plugins of a folder (one subfolder per plugin, holding &lt;Name&gt;.dll), each build in its
/// own collectible load context, and the model templates and fine-tuning methods they provide.
/// Hot swap: <see cref="Refresh"/> (called by the folder watcher when
/// <see cref="PluginHostOptions.Watch"/> is on) loads rebuilt plugins for new lookups and leases;
/// a superseded build stays loaded while leases hold it and is unloaded when the last one is
/// released. A plugin that fails to load is listed with its reason and the rest keep working; a
/// rebuild that fails keeps the previous good build serving. Thread-safe.
/// </summary>
public sealed partial class PluginHost : IDisposable
{
    private readonly object _lock = new();
    private readonly SortedDictionary<string, PluginFolderState> _folders = new(StringComparer.Ordinal);
    private readonly List<PluginGeneration> _draining = new();
    private readonly PluginWatcher? _watcher;
    private string? _folderFailure;
    private int _generations;
    private bool _disposed;

    private PluginHost(string folder, PluginHostOptions options)
    {
        Folder = Path.GetFullPath(folder);
        Refresh();
        if (options.Watch && Directory.Exists(Folder))
            _watcher = new PluginWatcher(Folder, options.Debounce, RefreshFromWatcher);
    }

    /// <summary>The plugins folder: FTA_PLUGINS_DIR, or plugins/ beside the running program.</summary>
    public static string DefaultFolder =>
        Environment.GetEnvironmentVariable("FTA_PLUGINS_DIR") is { Length: > 0 } dir ? dir : Path.Combine(AppContext.BaseDirectory, "plugins");

    public string Folder { get; }

    /// <summary>Raised after a refresh that changed anything: a build loaded, swapped, failed or went away.</summary>
    public event EventHandler? Refreshed;

    /// <summary>Loads every plugin under <paramref name="folder"/> (default <see cref="DefaultFolder"/>).</summary>
    public static PluginHost Load(string? folder = null, PluginHostOptions? options = null) =>
        new(folder ?? DefaultFolder, options ?? new PluginHostOptions());

    /// <summary>The templates of the current builds, in folder order.</summary>
    public IReadOnlyList<IModelTemplate> Templates
    {
        get { lock (_lock) return Current().SelectMany(g => g.Templates).ToList(); }
    }

    /// <summary>The methods of the current builds, in folder order.</summary>
    public IReadOnlyList<IFineTuneMethod> Methods
    {
        get { lock (_lock) return Current().SelectMany(g => g.Methods).ToList(); }
    }

    /// <summary>Every plugin: one row per implementation of each current and draining build, one per folder that offers nothing.</summary>
    public IReadOnlyList<PluginInfo> Plugins
    {
        get { lock (_lock) return Listing(); }
    }

    /// <summary>The folders whose latest build did not load, with the reasons.</summary>
    public IReadOnlyList<PluginInfo> Failures => Plugins.Where(p => p.IsFailure).ToList();

    // Lookups without a lease serve one-shot commands; a run leases (AcquireMethod, AcquireTemplate…)
    // so that a hot swap during the run leaves its build loaded until it ends.

    /// <summary>The template for an HF model_type; the error lists the model types the loaded plugins know, and the failures.</summary>
    public IModelTemplate TemplateFor(string modelType) => FindTemplate(t => t.ModelTypes.Contains(modelType), () => NoTemplateFor(modelType)).Instance;

    /// <summary>The template by its own name ("qwen3", "llama").</summary>
    public IModelTemplate TemplateNamed(string name) => FindTemplate(t => t.Name == name, () => NoTemplateNamed(name)).Instance;

    /// <summary>The fine-tuning method by its name ("lora", "full").</summary>
    public IFineTuneMethod Method(string name) => FindMethod(name).Instance;

    /// <summary>The method for a new run, held on its current build until the lease is disposed.</summary>
    public PluginLease<IFineTuneMethod> AcquireMethod(string name)
    {
        lock (_lock)
            return Lease(FindMethod(name));
    }

    /// <summary>The named template for a new run, held on its current build until the lease is disposed.</summary>
    public PluginLease<IModelTemplate> AcquireTemplate(string name)
    {
        lock (_lock)
            return Lease(FindTemplate(t => t.Name == name, () => NoTemplateNamed(name)));
    }

    /// <summary>The template for an HF model_type for a new run, held on its current build until the lease is disposed.</summary>
    public PluginLease<IModelTemplate> AcquireTemplateFor(string modelType)
    {
        lock (_lock)
            return Lease(FindTemplate(t => t.ModelTypes.Contains(modelType), () => NoTemplateFor(modelType)));
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        lock (_lock)
        {
            if (_disposed)
                return;
            _disposed = true;
            foreach (var state in _folders.Values)
                Supersede(state.Current);
            _folders.Clear();
        }
    }

    private (PluginGeneration Generation, IModelTemplate Instance, string Name) FindTemplate(Func<IModelTemplate, bool> match, Func<string> error)
    {
        lock (_lock)
        {
            foreach (var generation in Current())
                foreach (var implementation in generation.Implementations)
                    if (implementation.Instance is IModelTemplate template && implementation.Kind == PluginKind.Template && match(template))
                        return (generation, template, implementation.Name);
            throw new KeyNotFoundException(error());
        }
    }

    private (PluginGeneration Generation, IFineTuneMethod Instance, string Name) FindMethod(string name)
    {
        lock (_lock)
        {
            foreach (var generation in Current())
                foreach (var implementation in generation.Implementations)
                    if (implementation.Instance is IFineTuneMethod method && implementation.Kind == PluginKind.Method && implementation.Name == name)
                        return (generation, method, implementation.Name);
            throw new KeyNotFoundException($"no fine-tuning method named \"{name}\" (available: {Known(g => g.Methods.Select(m => m.Name))}{Unavailable()})");
        }
    }

    /// <summary>Leases a build found under the same hold of the lock, so no refresh can unload it in between.</summary>
    private PluginLease<T> Lease<T>((PluginGeneration Generation, T Instance, string Name) found) where T : class
    {
        found.Generation.Leases++;
        return new PluginLease<T>(found.Generation, found.Instance, found.Name, Release);
    }

    private void Release(PluginGeneration generation)
    {
        lock (_lock)
        {
            generation.Leases--;
            if (generation is { Superseded: true, Leases: 0 })
            {
                _draining.Remove(generation);
                generation.Unload();
            }
        }
    }

    private string NoTemplateNamed(string name) =>
        $"no model template named \"{name}\" (available: {Known(g => g.Templates.Select(t => t.Name))}{Unavailable()})";

    private string NoTemplateFor(string modelType) =>
        $"no model template handles model_type \"{modelType}\" (loaded templates handle: {Known(g => g.Templates.SelectMany(t => t.ModelTypes))}{Unavailable()})";

    private IEnumerable<PluginGeneration> Current() => _folders.Values.Select(s => s.Current).OfType<PluginGeneration>();

    private string Known(Func<PluginGeneration, IEnumerable<string>> names)
    {
        var known = Current().SelectMany(names).Distinct().ToList();
        return known.Count > 0 ? string.Join(", ", known) : "none";
    }

    private string Unavailable()
    {
        var rows = Listing();
        var text = "";
        var empty = rows.Where(p => p.Status == PluginStatus.NoImplementations).Select(p => p.Name).ToList();
        if (empty.Count > 0)
            text += $"; plugins with no implementations yet: {string.Join(", ", empty)}";
        var failed = rows.Where(p => p.IsFailure).Select(p => $"{p.Folder}: {p.Reason}").Distinct().ToList();
        if (failed.Count > 0)
            text += $"; plugins that failed to load: {string.Join("; ", failed)}";
        return text;
    }
}
