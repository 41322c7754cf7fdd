namespace FineTuneAgent.Core.Export;

/// <summary>
/// One step of an export: <see cref="Phase"/> is "load", "merge", "write" or "copy";
/// <see cref="Item"/> the tensor or file just done; <see cref="Done"/> of <see cref="Total"/> in
/// that phase. Messages between phases come with Item null and a <see cref="Message"/>.
/// </summary>
public sealed record ExportProgress(string Phase, string? Item, int Done, int Total, string? Message = null)
{
    public static ExportProgress Say(string phase, string message) => new(phase, null, 0, 0, message);
}
