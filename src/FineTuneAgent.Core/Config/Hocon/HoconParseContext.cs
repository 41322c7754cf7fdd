namespace FineTuneAgent.Core.Config.Hocon;

/// <summary>What one parse shares across the files it includes: the files open right now, to refuse an include cycle.</summary>
internal sealed class HoconParseContext
{
    private readonly List<string> _open = [];

    /// <summary>Marks <paramref name="fullPath"/> as being parsed until the returned scope is disposed.</summary>
    public IDisposable Enter(string fullPath, HoconPosition includedAt)
    {
        if (_open.Contains(fullPath))
            throw new HoconException(includedAt, $"include cycle: {string.Join(" includes ", _open.Append(fullPath).Select(Path.GetFileName))}");
        _open.Add(fullPath);
        return new Scope(() => _open.RemoveAt(_open.Count - 1));
    }

    private sealed class Scope(Action exit) : IDisposable
    {
        public void Dispose() => exit();
    }
}
