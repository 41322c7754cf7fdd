namespace FineTuneAgent.Core.Datasets;

/// <summary>What to do with an example longer than cutoff_len tokens.</summary>
public enum OverlengthPolicy
{
    /// <summary>Drop it (counted as <see cref="DropReason.TooLong"/>).</summary>
    Drop,

    /// <summary>Keep its first cutoff_len tokens; dropped anyway when no loss token is left.</summary>
    Truncate,
}
