namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>What a split does with the delimiters it finds (HF <c>SplitDelimiterBehavior</c>).</summary>
internal enum SplitDelimiterBehavior
{
    /// <summary>Delimiters are dropped.</summary>
    Removed,
    /// <summary>Each delimiter is a piece of its own.</summary>
    Isolated,
    /// <summary>A delimiter joins the piece before it.</summary>
    MergedWithPrevious,
    /// <summary>A delimiter joins the piece after it.</summary>
    MergedWithNext,
    /// <summary>Consecutive delimiters form one piece.</summary>
    Contiguous,
}
