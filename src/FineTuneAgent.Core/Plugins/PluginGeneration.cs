using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Abstractions.Templates;

namespace FineTuneAgent.Core.Plugins;

/// <summary>
/// One loaded build of one plugin folder: its load context, its instances and the runs leasing
/// it. The host supersedes a generation when a newer build loads and unloads it once no lease
/// holds it. Lease counts and the superseded flag change only under the host's lock.
/// </summary>
internal sealed class PluginGeneration(PluginLoadContext context, string folder, string version, string fingerprint, IReadOnlyList<PluginImplementation> implementations)
{
    private PluginLoadContext? _context = context;

    public string Folder { get; } = folder;

    public string Version { get; } = version;

    public string Fingerprint { get; } = fingerprint;

    public IReadOnlyList<PluginImplementation> Implementations { get; private set; } = implementations;

    public int Leases { get; set; }

    public bool Superseded { get; set; }

    public IEnumerable<IModelTemplate> Templates => Implementations.Select(i => i.Instance).OfType<IModelTemplate>();

    public IEnumerable<IFineTuneMethod> Methods => Implementations.Select(i => i.Instance).OfType<IFineTuneMethod>();

    /// <summary>
    /// Starts unloading the context and drops the host's references to its instances, so the GC
    /// collects it as soon as nothing else refers to it.
    /// </summary>
    public void Unload()
    {
        Implementations = [];
        _context?.Unload();
        _context = null;
    }
}
