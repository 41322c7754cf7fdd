namespace FineTuneAgent.Core.Datasets;

/// <summary>Why cleaning dropped a row.</summary>
public enum DropReason
{
    /// <summary>A user turn is empty or whitespace.</summary>
    EmptyPrompt,

    /// <summary>An assistant turn is empty or whitespace (and makes no tool call).</summary>
    EmptyAnswer,

    /// <summary>The same conversation, character for character, appeared earlier (in any dataset of the run).</summary>
    ExactDuplicate,

    /// <summary>The same conversation after NFC, whitespace collapsing and case folding appeared earlier.</summary>
    NormalizedDuplicate,

    /// <summary>Longer than cutoff_len tokens (dropped, or truncation left no answer token).</summary>
    TooLong,
}
