using FineTuneAgent.Abstractions.Templates;

namespace FineTuneAgent.Core.Plugins;

/// <summary>A plugin that could not be loaded, and why; the others keep working.</summary>
public sealed record PluginLoadFailure(string Folder, string Reason);

/// <summary>
/// The plugins found in a folder (one subfolder per plugin, holding &lt;Name&gt;.dll), each
/// loaded into its own collectible context, and the model templates they provide.
/// </summary>
public sealed class PluginCatalog : IDisposable
{
    private readonly List<PluginLoadContext> _contexts = new();
    private readonly List<IModelTemplate> _templates = new();
    private readonly List<PluginLoadFailure> _failures = new();

    private PluginCatalog(string folder)
    {
        Folder = folder;
    }

    public string Folder { get; }

    public IReadOnlyList<IModelTemplate> Templates => _templates;

    public IReadOnlyList<PluginLoadFailure> Failures => _failures;

    /// <summary>The plugins folder: FTA_PLUGINS_DIR, or plugins/ beside the running program.</summary>
    public static string DefaultFolder =>
        Environment.GetEnvironmentVariable("FTA_PLUGINS_DIR") is { Length: > 0 } dir ? dir : Path.Combine(AppContext.BaseDirectory, "plugins");

    public static PluginCatalog Load(string? folder = null)
    {
        var catalog = new PluginCatalog(folder ?? DefaultFolder);
        if (!Directory.Exists(catalog.Folder))
        {
            catalog._failures.Add(new PluginLoadFailure(catalog.Folder, "plugins folder not found"));
            return catalog;
        }
        foreach (var dir in Directory.GetDirectories(catalog.Folder).Order(StringComparer.Ordinal))
            catalog.LoadOne(dir);
        return catalog;
    }

    private void LoadOne(string dir)
    {
        var assemblyPath = Path.Combine(dir, Path.GetFileName(dir) + ".dll");
        if (!File.Exists(assemblyPath))
        {
            _failures.Add(new PluginLoadFailure(dir, $"{Path.GetFileName(assemblyPath)} not found"));
            return;
        }
        var context = new PluginLoadContext(assemblyPath);
        try
        {
            var assembly = context.LoadFromAssemblyPath(assemblyPath);
            var templates = assembly.GetTypes()
                .Where(t => typeof(IModelTemplate).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
                .Select(t => (IModelTemplate)Activator.CreateInstance(t)!)
                .ToList();
            _templates.AddRange(templates);
            _contexts.Add(context);
        }
        catch (Exception e) when (e is BadImageFormatException or FileLoadException or FileNotFoundException or System.Reflection.ReflectionTypeLoadException or MissingMethodException or System.Reflection.TargetInvocationException)
        {
            _failures.Add(new PluginLoadFailure(dir, e.Message));
            context.Unload();
        }
    }

    /// <summary>The template for an HF model_type; the error lists the model types the loaded plugins know.</summary>
    public IModelTemplate TemplateFor(string modelType) =>
        _templates.FirstOrDefault(t => t.ModelTypes.Contains(modelType))
        ?? throw new KeyNotFoundException(
            $"no model template handles model_type \"{modelType}\" (loaded templates handle: {string.Join(", ", _templates.SelectMany(t => t.ModelTypes))}" +
            (_failures.Count > 0 ? $"; plugins that failed to load: {string.Join("; ", _failures.Select(f => $"{f.Folder}: {f.Reason}"))}" : "") + ")");

    /// <summary>The template by its own name ("qwen3", "llama").</summary>
    public IModelTemplate TemplateNamed(string name) =>
        _templates.FirstOrDefault(t => t.Name == name)
        ?? throw new KeyNotFoundException($"no model template named \"{name}\" (available: {string.Join(", ", _templates.Select(t => t.Name))})");

    public void Dispose()
    {
        _templates.Clear();
        foreach (var c in _contexts)
            c.Unload();
        _contexts.Clear();
    }
}
