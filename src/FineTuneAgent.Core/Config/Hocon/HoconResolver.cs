namespace FineTuneAgent.Core.Config.Hocon;

/// <summary>
/// Resolves substitutions once the whole document is parsed (the spec's "Substitutions" and
/// "Self-Referential Substitutions").
///
/// Every value is found by its path: the stack of values assigned to a path is gathered from
/// the stacks of its parents (<see cref="StackAt"/>), and folded newest first: an object merges
/// with the objects below it, anything else hides them (<see cref="Fold"/>). So a lookup of
/// <c>${bar.foo}</c> resolves only <c>bar.foo</c>, never the rest of <c>bar</c>, and
/// <c>foo : ${does-not-exist}, foo : 42</c> never evaluates the substitution.
///
/// Looking back: a field whose value is a substitution or a concatenation holding one, and
/// refers to its own path (<c>path = ${path} [/usr/bin]</c>, <c>a += b</c>, <c>foo : ${foo.a}</c>),
/// sees only the values assigned before it. The same happens when a lookup runs into a field
/// that is being resolved on its way (<c>a : 1, b : ${a}, a : ${b}</c>): the cycle is broken by
/// looking below that field. Both are a <see cref="View"/> that cuts a path's stack at an entry.
/// A cycle that no earlier value can break (<c>a : ${b}, b : ${a}</c>, or <c>a : { b : ${a} }</c>)
/// is an error naming the substitutions involved.
///
/// Every resolved entry is memoized per view, so a substitution resolves once, to one value.
/// </summary>
internal sealed class HoconResolver
{
    private readonly List<HoconNode> _rootStack;
    private readonly Func<string, string?> _environment;
    private readonly Dictionary<(HoconNode, string), HoconValue?> _memo = [];
    private readonly HashSet<HoconNode> _inProgress = [];
    private readonly List<HoconSubstitutionNode> _lookups = [];
    private readonly Dictionary<HoconNode, int> _ids = [];

    public HoconResolver(HoconObjectNode root, HoconObject? fallback, Func<string, string?> environment)
    {
        _rootStack = fallback is null ? [root] : [new HoconResolvedNode(fallback), root];
        _environment = environment;
    }

    public HoconObject Resolve()
    {
        try
        {
            return (HoconObject)Fold(_rootStack, [], View.Empty)!;
        }
        catch (CycleException c)
        {
            var at = c.Entry is HoconSubstitutionNode s ? s.Display : "this value";
            throw new HoconException(c.Entry.Position, $"substitution cycle: {at} refers to a value that contains it, and no earlier value can stand in"
                + (c.Chain.Count > 0 ? $" ({string.Join(" -> ", c.Chain.Select(l => $"{l.Display} at {l.Position}"))})" : ""));
        }
    }

    /// <summary>The values assigned to <paramref name="path"/>, oldest first, as the view sees them.</summary>
    private List<HoconNode> StackAt(IReadOnlyList<string> path, View view)
    {
        var entries = _rootStack;
        for (var i = 0; i < path.Count; i++)
            entries = view.Apply(path.Take(i + 1).ToList(), ChildEntries(entries, path[i], path.Take(i).ToList(), view));
        return entries;
    }

    /// <summary>
    /// The values of <paramref name="key"/> inside a stack of values, oldest first: gathered newest
    /// first until a value that is not an object (which hides everything older).
    /// </summary>
    private List<HoconNode> ChildEntries(List<HoconNode> entries, string key, IReadOnlyList<string>? parentPath, View view)
    {
        var newestFirst = new List<HoconNode>();
        for (var i = entries.Count - 1; i >= 0; i--)
        {
            var e = entries[i];
            if (e is HoconObjectNode o)
            {
                if (o.TryGetStack(key, out var stack))
                    newestFirst.AddRange(Enumerable.Reverse(stack));
                continue;
            }
            if (e is HoconScalarNode or HoconArrayNode)
                break;
            var value = ResolveEntry(e, parentPath, view);
            if (value is null)
                continue; // an undefined ${?x}: as if never assigned
            if (value is not HoconObject resolved)
                break;
            if (resolved[key] is { } child)
                newestFirst.Add(new HoconResolvedNode(child));
        }
        newestFirst.Reverse();
        return newestFirst;
    }

    /// <summary>The value of a stack: the newest value, merged with the objects below it when it is an object; null when nothing is defined.</summary>
    private HoconValue? Fold(List<HoconNode> entries, IReadOnlyList<string>? path, View view)
    {
        var objects = new List<HoconNode>();
        for (var i = entries.Count - 1; i >= 0; i--)
        {
            var e = entries[i];
            if (e is HoconObjectNode)
            {
                objects.Add(e);
                continue;
            }
            var value = ResolveEntry(e, path, view);
            if (value is null)
                continue;
            if (value is HoconObject)
            {
                objects.Add(e as HoconResolvedNode ?? new HoconResolvedNode(value));
                continue;
            }
            if (objects.Count == 0)
                return value;
            break;
        }
        if (objects.Count == 0)
            return null;
        objects.Reverse();
        return MergeObjects(objects, path, view);
    }

    private HoconObject MergeObjects(List<HoconNode> objects, IReadOnlyList<string>? path, View view)
    {
        var keys = new List<string>();
        var seen = new HashSet<string>();
        foreach (var o in objects)
        {
            var own = o is HoconObjectNode node ? node.Keys : ((HoconObject)((HoconResolvedNode)o).Value).Keys;
            keys.AddRange(own.Where(seen.Add));
        }
        var fields = new List<KeyValuePair<string, HoconValue>>();
        foreach (var key in keys)
        {
            IReadOnlyList<string>? childPath = path is null ? null : [.. path, key];
            var entries = ChildEntries(objects, key, path, view);
            if (childPath is not null)
                entries = view.Apply(childPath, entries);
            if (Fold(entries, childPath, view) is { } value)
                fields.Add(new(key, value));
        }
        return new HoconObject(fields, objects[0].Position);
    }

    /// <summary>One entry of a stack, resolved; null for an undefined optional substitution.</summary>
    private HoconValue? ResolveEntry(HoconNode e, IReadOnlyList<string>? path, View view)
    {
        switch (e)
        {
            case HoconResolvedNode r:
                return r.Value;
            case HoconScalarNode s:
                return s.Value;
            case HoconObjectNode o:
                return Fold([o], path, view);
        }
        var memoKey = (e, view.Key);
        if (_memo.TryGetValue(memoKey, out var done))
            return done;
        if (!_inProgress.Add(e))
            throw new CycleException(e, path, [.. _lookups]);
        HoconValue? value;
        try
        {
            value = e switch
            {
                HoconArrayNode a => ResolveArray(a, view),
                HoconSubstitutionNode s => Substitute(s, path, s, view),
                HoconConcatenationNode c => ResolveConcatenation(c, path, view),
                _ => throw new InvalidOperationException($"unexpected node {e.GetType().Name}"),
            };
        }
        finally
        {
            _inProgress.Remove(e);
        }
        _memo[memoKey] = value;
        return value;
    }

    private HoconArray ResolveArray(HoconArrayNode a, View view)
    {
        var items = new List<HoconValue>();
        foreach (var item in a.Items)
        {
            if (ResolveEntry(item, null, view) is { } value)
                items.Add(value);
        }
        return new HoconArray(items, a.Position);
    }

    /// <summary>
    /// A substitution's value. <paramref name="fieldPath"/> and <paramref name="self"/> are the field
    /// whose value holds it (null inside arrays and objects, where nothing is self-referential).
    /// </summary>
    private HoconValue? Substitute(HoconSubstitutionNode s, IReadOnlyList<string>? fieldPath, HoconNode self, View view)
    {
        // An included file's substitution is looked up where the file was included first, then from the root.
        IReadOnlyList<string>[] candidates = s.IncludePrefix.Count > 0 ? [[.. s.IncludePrefix, .. s.Path], s.Path] : [s.Path];
        var selfReference = false;
        foreach (var path in candidates)
        {
            var lookIn = view;
            if (fieldPath is not null && HoconPath.StartsWith(path, fieldPath))
            {
                lookIn = view.With(fieldPath, self, Id(self));
                selfReference = true;
            }
            if (Lookup(path, lookIn, s) is { } found)
                return found;
        }
        var variable = string.Join('.', s.Path);
        if (_environment(variable) is { } fromEnvironment)
            return HoconScalar.String(fromEnvironment, s.Position with { Via = $"environment variable {variable}" });
        if (s.Optional)
            return null;
        throw new HoconException(s.Position, $"cannot resolve {s.Display}: not set in the configuration"
            + (selfReference ? " before this line (a setting that refers to itself builds on an earlier value)" : "")
            + $" and no environment variable {variable}");
    }

    private HoconValue? Lookup(IReadOnlyList<string> path, View view, HoconSubstitutionNode s)
    {
        _lookups.Add(s);
        try
        {
            return Fold(StackAt(path, view), path, view);
        }
        catch (CycleException c) when (c.Path is not null && c.Entry is HoconSubstitutionNode or HoconConcatenationNode
            && HoconPath.StartsWith(path, c.Path) && !view.Has(c.Path, c.Entry))
        {
            // The lookup ran into a field being resolved on the way to `path`: look below it.
            var back = view.With(c.Path, c.Entry, Id(c.Entry));
            var value = Fold(StackAt(path, back), path, back);
            if (value is null && !s.Optional)
            {
                throw new HoconException(s.Position, $"substitution cycle: {s.Display} needs itself"
                    + $" ({string.Join(" -> ", c.Chain.Select(l => $"{l.Display} at {l.Position}"))})");
            }
            return value;
        }
        finally
        {
            _lookups.RemoveAt(_lookups.Count - 1);
        }
    }

    /// <summary>
    /// Parts resolved, undefined optional ones dropped; then strings join (with the whitespace
    /// between two defined parts), arrays append, objects merge (later over earlier). Nothing
    /// defined: the whole value is undefined (<c>foo : ${?bar}${?baz}</c> creates no field).
    /// </summary>
    private HoconValue? ResolveConcatenation(HoconConcatenationNode c, IReadOnlyList<string>? path, View view)
    {
        var parts = new List<(HoconValue Value, bool IsWhitespace)>();
        foreach (var part in c.Parts)
        {
            if (part is HoconScalarNode { IsWhitespace: true } ws)
            {
                parts.Add((ws.Value, true));
                continue;
            }
            var value = part is HoconSubstitutionNode s ? Substitute(s, path, c, view) : ResolveEntry(part, null, view);
            if (value is not null)
                parts.Add((value, false));
        }
        var solid = parts.Where(p => !p.IsWhitespace).Select(p => p.Value).ToList();
        if (solid.Count == 0)
            return null;
        if (solid.Any(v => v is HoconObject or HoconArray))
        {
            var clash = solid.FirstOrDefault(v => v.GetType() != solid[0].GetType());
            if (clash is not null)
                throw new HoconException(c.Position, $"cannot concatenate {solid[0].Describe()} with {clash.Describe()} (only strings with strings, arrays with arrays, objects with objects)");
            if (solid[0] is HoconArray)
                return new HoconArray(solid.SelectMany(a => ((HoconArray)a).Items).ToList(), c.Position);
            return solid.Cast<HoconObject>().Aggregate((older, newer) => newer.WithFallback(older));
        }
        var text = new System.Text.StringBuilder();
        var seenSolid = 0;
        foreach (var (value, isWhitespace) in parts)
        {
            if (!isWhitespace)
                seenSolid++;
            // whitespace counts only between two defined simple values
            if (!isWhitespace || (seenSolid > 0 && seenSolid < solid.Count))
                text.Append(((HoconScalar)value).Text);
        }
        return HoconScalar.String(text.ToString(), c.Position);
    }

    private int Id(HoconNode node)
    {
        if (!_ids.TryGetValue(node, out var id))
            _ids[node] = id = _ids.Count;
        return id;
    }

    /// <summary>Cuts of path stacks: at each, the entry and everything assigned after it are out of sight.</summary>
    private sealed class View
    {
        public static readonly View Empty = new([], "");

        private readonly List<(string PathKey, HoconNode Entry)> _cuts;

        private View(List<(string, HoconNode)> cuts, string key)
        {
            _cuts = cuts;
            Key = key;
        }

        /// <summary>Identifies the view in memo keys.</summary>
        public string Key { get; }

        public View With(IReadOnlyList<string> path, HoconNode entry, int id) =>
            new([.. _cuts, (HoconPath.Key(path), entry)], $"{Key}|{HoconPath.Key(path)}#{id}");

        public bool Has(IReadOnlyList<string> path, HoconNode entry) =>
            _cuts.Any(c => c.PathKey == HoconPath.Key(path) && ReferenceEquals(c.Entry, entry));

        public List<HoconNode> Apply(IReadOnlyList<string> path, List<HoconNode> entries)
        {
            if (_cuts.Count == 0)
                return entries;
            var key = HoconPath.Key(path);
            foreach (var (pathKey, entry) in _cuts)
            {
                var at = pathKey == key ? entries.FindIndex(e => ReferenceEquals(e, entry)) : -1;
                if (at >= 0)
                    entries = entries.Take(at).ToList();
            }
            return entries;
        }
    }

    /// <summary>A lookup ran into an entry that is being resolved.</summary>
    private sealed class CycleException(HoconNode entry, IReadOnlyList<string>? path, IReadOnlyList<HoconSubstitutionNode> chain) : Exception
    {
        public HoconNode Entry { get; } = entry;

        public IReadOnlyList<string>? Path { get; } = path;

        public IReadOnlyList<HoconSubstitutionNode> Chain { get; } = chain;
    }
}
