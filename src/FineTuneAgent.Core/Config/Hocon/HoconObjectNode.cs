namespace FineTuneAgent.Core.Config.Hocon;

/// <summary>
/// An object as parsed. Each key holds the stack of values assigned to it, oldest first, merged
/// as the spec's "Duplicate keys and object merging" says: objects merge at once; a value that
/// cannot merge (a string, number, array, null) hides everything before it; a substitution or a
/// concatenation holding one is pushed, because what it hides depends on what it resolves to and
/// a self-reference (<c>path = ${path} [...]</c>) needs the values below it.
/// </summary>
internal sealed class HoconObjectNode(HoconPosition position) : HoconNode(position)
{
    private readonly Dictionary<string, List<HoconNode>> _fields = [];
    private readonly List<string> _order = [];

    /// <summary>Keys in the order they first appeared.</summary>
    public IReadOnlyList<string> Keys => _order;

    public bool TryGetStack(string key, out List<HoconNode> stack) => _fields.TryGetValue(key, out stack!);

    /// <summary>Assigns <paramref name="value"/> to <paramref name="key"/>, merging with what the key already holds.</summary>
    public void Add(string key, HoconNode value)
    {
        if (!_fields.TryGetValue(key, out var stack))
        {
            _fields[key] = [value];
            _order.Add(key);
            return;
        }
        switch (value)
        {
            case HoconObjectNode newer when stack[^1] is HoconObjectNode older:
                older.MergeFrom(newer);
                break;
            case HoconObjectNode or HoconSubstitutionNode or HoconConcatenationNode or HoconResolvedNode:
                stack.Add(value);
                break;
            default:
                stack.Clear();
                stack.Add(value);
                break;
        }
    }

    /// <summary>Every assignment of <paramref name="newer"/>, in order, as if written after this object's own.</summary>
    public void MergeFrom(HoconObjectNode newer)
    {
        foreach (var key in newer._order)
        {
            foreach (var value in newer._fields[key])
                Add(key, value);
        }
    }
}
