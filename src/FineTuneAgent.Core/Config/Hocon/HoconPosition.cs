namespace FineTuneAgent.Core.Config.Hocon;

/// <summary>
/// Where a token or value came from: file, 1-based line and column, and for values that did not
/// come from the file itself (an environment variable) what they came through.
/// </summary>
public sealed record HoconPosition(string File, int Line, int Column, string? Via = null)
{
    public override string ToString() => Via is null ? $"{File}:{Line}:{Column}" : $"{File}:{Line}:{Column}, {Via}";
}
