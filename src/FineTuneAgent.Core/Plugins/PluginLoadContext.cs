using System.Reflection;
using System.Runtime.Loader;

namespace FineTuneAgent.Core.Plugins;

/// <summary>
/// A collectible load context for one build of one plugin folder. The contract assemblies
/// (Abstractions, Torch, Modeling) resolve to the host's copies in the default context, so a
/// plugin's IModelTemplate is the host's IModelTemplate; anything else the plugin ships resolves
/// from its own folder through its deps.json. Managed assemblies are read into memory and loaded
/// from the bytes, so a rebuild may overwrite the folder's files while this build is in use
/// (loading from the path would map the file, and a build rewriting it in place would change
/// code under the running program). Native libraries still load from their path.
/// </summary>
internal sealed class PluginLoadContext : AssemblyLoadContext
{
    private static readonly HashSet<string> Shared = ["FineTuneAgent.Abstractions", "FineTuneAgent.Torch", "FineTuneAgent.Modeling"];

    private readonly AssemblyDependencyResolver _resolver;

    public PluginLoadContext(string pluginAssemblyPath, string name)
        : base(name, isCollectible: true)
    {
        PluginAssemblyPath = pluginAssemblyPath;
        _resolver = new AssemblyDependencyResolver(pluginAssemblyPath);
    }

    public string PluginAssemblyPath { get; }

    /// <summary>Loads the plugin's own assembly (and its pdb when present) from memory.</summary>
    public Assembly LoadPlugin() => LoadFromBytes(PluginAssemblyPath);

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name is { } name && Shared.Contains(name))
            return null;
        var path = _resolver.ResolveAssemblyToPath(assemblyName);
        return path is not null && File.Exists(path) ? LoadFromBytes(path) : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = _resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
        return path is null ? IntPtr.Zero : LoadUnmanagedDllFromPath(path);
    }

    private Assembly LoadFromBytes(string path)
    {
        using var assembly = new MemoryStream(File.ReadAllBytes(path), writable: false);
        var pdbPath = Path.ChangeExtension(path, ".pdb");
        using var symbols = File.Exists(pdbPath) ? new MemoryStream(File.ReadAllBytes(pdbPath), writable: false) : null;
        return LoadFromStream(assembly, symbols);
    }
}
