using System.Reflection;
using System.Runtime.Loader;

namespace FineTuneAgent.Core.Plugins;

/// <summary>
/// A collectible load context for one plugin folder. The contract assemblies (Abstractions,
/// Torch, Modeling) resolve to the host's copies in the default context, so a plugin's
/// IModelTemplate is the host's IModelTemplate; anything else the plugin ships loads from its
/// own folder.
/// </summary>
internal sealed class PluginLoadContext(string pluginAssemblyPath) : AssemblyLoadContext(Path.GetFileNameWithoutExtension(pluginAssemblyPath), isCollectible: true)
{
    private static readonly HashSet<string> Shared = ["FineTuneAgent.Abstractions", "FineTuneAgent.Torch", "FineTuneAgent.Modeling"];

    private readonly AssemblyDependencyResolver _resolver = new(pluginAssemblyPath);

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name is { } name && Shared.Contains(name))
            return null;
        var path = _resolver.ResolveAssemblyToPath(assemblyName);
        return path is null ? null : LoadFromAssemblyPath(path);
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = _resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
        return path is null ? IntPtr.Zero : LoadUnmanagedDllFromPath(path);
    }
}
