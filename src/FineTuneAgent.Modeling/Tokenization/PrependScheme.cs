namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>When Metaspace puts a replacement character in front of a piece.</summary>
internal enum PrependScheme
{
    /// <summary>Before every piece.</summary>
    Always,
    /// <summary>Only before the piece that starts the text.</summary>
    First,
    /// <summary>Never.</summary>
    Never,
}
