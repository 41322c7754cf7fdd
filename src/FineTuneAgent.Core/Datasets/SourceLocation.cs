namespace FineTuneAgent.Core.Datasets;

/// <summary>
/// Where a row came from: the file as the user named it, the 1-based line the row starts on (null
/// for the file as a whole), and for a JSON array the 0-based element index.
/// </summary>
public readonly record struct SourceLocation(string File, int? Line = null, int? Element = null)
{
    public override string ToString() => ToString(null);

    public string ToString(int? column)
    {
        var s = File;
        if (Line is { } line)
            s += ":" + line + (column is { } c ? ":" + c : "");
        if (Element is { } e)
            s += $" (element {e})";
        return s;
    }
}
