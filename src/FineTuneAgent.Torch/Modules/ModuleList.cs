using System.Collections;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Torch.Modules;

/// <summary>An indexed list of child modules named "0", "1", … as PyTorch's nn.ModuleList.</summary>
public sealed class ModuleList<T> : nn.Module, IReadOnlyList<T> where T : nn.Module
{
    private readonly List<T> _items = new();

    public ModuleList(params T[] modules) : base(nameof(ModuleList<T>))
    {
        foreach (var m in modules)
            Add(m);
    }

    public void Add(T module)
    {
        register_module(_items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module);
        _items.Add(module);
    }

    public T this[int index] => _items[index];

    public int Count => _items.Count;

    public IEnumerator<T> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
