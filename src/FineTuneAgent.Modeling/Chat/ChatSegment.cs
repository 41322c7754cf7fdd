namespace FineTuneAgent.Modeling.Chat;

/// <summary>
/// A run of rendered text, what it is, whether training computes loss on it, and the index of the
/// message it came from (null for text that belongs to no message).
/// </summary>
public sealed record ChatSegment(string Text, ChatSegmentKind Kind, bool CarriesLoss, int? MessageIndex);
