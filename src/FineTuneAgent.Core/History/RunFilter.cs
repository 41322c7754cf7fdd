using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Core.History;

/// <summary>
/// Which runs <see cref="HistoryReader.ListRuns"/> returns: all conditions given must hold. <see cref="Text"/>
/// matches (case-insensitively, as a substring) the id, method, model path, error or anywhere in the configuration.
/// </summary>
public sealed record RunFilter(RunStatus? Status = null, string? Method = null, string? Text = null, int? Limit = null);
