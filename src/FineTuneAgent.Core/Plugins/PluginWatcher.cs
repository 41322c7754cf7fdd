namespace FineTuneAgent.Core.Plugins;

/// <summary>
/// Watches the plugins folder and calls back once changes have been quiet for the debounce
/// interval: a build writes several files, and loading after the first would load a mix. A
/// callback that still sees a half-written build records the failure; the writes that follow
/// restart the timer, so the finished build is tried again.
/// </summary>
internal sealed class PluginWatcher : IDisposable
{
    private readonly FileSystemWatcher _watcher;
    private readonly Timer _timer;
    private readonly TimeSpan _debounce;

    public PluginWatcher(string folder, TimeSpan debounce, Action settled)
    {
        _debounce = debounce;
        _timer = new Timer(_ => settled(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _watcher = new FileSystemWatcher(folder)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        _watcher.Changed += OnChanged;
        _watcher.Created += OnChanged;
        _watcher.Deleted += OnChanged;
        _watcher.Renamed += OnChanged;
        _watcher.Error += (_, _) => Restart();   // events were lost (buffer overflow): a refresh re-reads everything
        _watcher.EnableRaisingEvents = true;
    }

    private void OnChanged(object sender, FileSystemEventArgs e) => Restart();

    private void Restart()
    {
        try
        {
            _timer.Change(_debounce, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // an event that raced with Dispose
        }
    }

    public void Dispose()
    {
        _watcher.Dispose();
        _timer.Dispose();
    }
}
