namespace FineTuneAgent.Core.Datasets;

/// <summary>How many rows one reason dropped, and where the first few were ("file:line").</summary>
public sealed record DropCount(DropReason Reason, int Count, IReadOnlyList<string> FirstAt);
