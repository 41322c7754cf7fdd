namespace FineTuneAgent.Core.Plugins;

/// <summary>Hot swap: finding what changed in the plugins folder, loading it, and the listing.</summary>
public sealed partial class PluginHost
{
    /// <summary>
    /// Loads plugin folders that are new or whose files changed since they were last tried, and
    /// forgets folders that went away. A changed folder that loads replaces the build serving new
    /// runs (leased old builds drain); one that fails is recorded and the old build keeps
    /// serving. An unchanged folder, good or bad, is not loaded again. Returns whether anything
    /// changed.
    /// </summary>
    public bool Refresh()
    {
        bool changed;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            changed = RefreshFolders();
        }
        if (changed)
            Refreshed?.Invoke(this, EventArgs.Empty);
        return changed;
    }

    private void RefreshFromWatcher()
    {
        try
        {
            Refresh();
        }
        catch (ObjectDisposedException)
        {
            // the host was disposed while a change was settling
        }
    }

    private bool RefreshFolders()
    {
        string[] dirs;
        try
        {
            dirs = Directory.GetDirectories(Folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var failure = e is DirectoryNotFoundException ? "plugins folder not found" : $"plugins folder could not be read: {e.Message}";
            var changed = _folderFailure != failure || _folders.Count > 0;
            _folderFailure = failure;
            foreach (var state in _folders.Values)
                Supersede(state.Current);
            _folders.Clear();
            return changed;
        }
        var any = _folderFailure is not null;
        _folderFailure = null;
        foreach (var gone in _folders.Keys.Except(dirs, StringComparer.Ordinal).ToList())
        {
            Supersede(_folders[gone].Current);
            _folders.Remove(gone);
            any = true;
        }
        foreach (var dir in dirs.Order(StringComparer.Ordinal))
        {
            if (!_folders.TryGetValue(dir, out var state))
                _folders.Add(dir, state = new PluginFolderState(dir));
            any |= RefreshFolder(state);
        }
        return any;
    }

    private bool RefreshFolder(PluginFolderState state)
    {
        string fingerprint;
        try
        {
            fingerprint = PluginFingerprint.Of(state.Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A file vanished or could not be read mid-build: report it, try again next time.
            var failure = new PluginLoadFailure($"could not read the plugin's files: {e.Message}");
            var changed = state.Failure != failure;
            state.Failure = failure;
            state.AttemptedFingerprint = null;
            return changed;
        }
        if (fingerprint == state.AttemptedFingerprint)
            return false;
        state.AttemptedFingerprint = fingerprint;
        if (state.Current?.Fingerprint == fingerprint)
        {
            // Back to the files of the build already serving (a failed rebuild was undone).
            var hadFailure = state.Failure is not null;
            state.Failure = null;
            return hadFailure;
        }
        if (PluginLoader.TryLoad(state.Path, fingerprint, ++_generations, out var generation, out var loadFailure))
        {
            Supersede(state.Current);
            state.Current = generation;
            state.Failure = null;
        }
        else
        {
            state.Failure = loadFailure;
        }
        return true;
    }

    /// <summary>Takes a build out of service: unloaded now if no lease holds it, else when the last lease is released.</summary>
    private void Supersede(PluginGeneration? generation)
    {
        if (generation is null)
            return;
        generation.Superseded = true;
        if (generation.Leases == 0)
            generation.Unload();
        else
            _draining.Add(generation);
    }

    private List<PluginInfo> Listing()
    {
        var rows = new List<PluginInfo>();
        if (_folderFailure is not null)
            rows.Add(new PluginInfo(Path.GetFileName(Folder), null, null, Folder, PluginStatus.Failed, _folderFailure, 0));
        foreach (var state in _folders.Values)
        {
            if (state.Current is { } current)
            {
                var (status, reason) = state.Failure is { } f
                    ? (PluginStatus.ReloadFailed, $"a newer build failed to load ({f.Reason}); still serving {current.Version}")
                    : (PluginStatus.Loaded, (string?)null);
                rows.AddRange(Rows(current, status, reason));
            }
            else if (state.Failure is { } failure)
            {
                var status = failure.NoImplementations ? PluginStatus.NoImplementations : PluginStatus.Failed;
                rows.Add(new PluginInfo(Path.GetFileName(state.Path), null, failure.Version, state.Path, status, failure.Reason, 0));
            }
        }
        foreach (var generation in _draining)
            rows.AddRange(Rows(generation, PluginStatus.Draining, $"superseded; unloads when its {generation.Leases} lease(s) are released"));
        return rows;
    }

    private static IEnumerable<PluginInfo> Rows(PluginGeneration generation, PluginStatus status, string? reason) =>
        generation.Implementations.Select(i => new PluginInfo(i.Name, i.Kind, generation.Version, generation.Folder, status, reason, generation.Leases));
}
