namespace FineTuneAgent.Core.Datasets;

/// <summary>How the cache served a <see cref="DatasetPipeline"/> run.</summary>
public enum CacheOutcome
{
    /// <summary>No cache directory was given.</summary>
    Disabled,

    /// <summary>Nothing cached for this key: built and written.</summary>
    Miss,

    /// <summary>Loaded from the cache; nothing was read or tokenized.</summary>
    Hit,

    /// <summary>A cache file was there but damaged (truncated, checksum or header mismatch): rebuilt and rewritten.</summary>
    Rebuilt,
}
