namespace FineTuneAgent.Core.Datasets;

/// <summary>
/// Bad dataset input: the message starts with where (file, line, column, JSON-array element, field)
/// so a user can open the file at the culprit. The parts are also properties for callers that
/// report them separately.
/// </summary>
public sealed class DatasetException : Exception
{
    public DatasetException(string what, SourceLocation? at = null, string? field = null, int? column = null, Exception? inner = null)
        : base(Compose(what, at, field, column), inner)
    {
        What = what;
        At = at;
        Field = field;
        Column = column;
    }

    /// <summary>The problem alone, without the location prefix.</summary>
    public string What { get; }

    public SourceLocation? At { get; }

    public string? File => At?.File;

    public int? Line => At?.Line;

    /// <summary>1-based byte column within the line, for JSON syntax errors.</summary>
    public int? Column { get; }

    /// <summary>The row's field (column name, or a path such as <c>conversations[3].from</c>).</summary>
    public string? Field { get; }

    private static string Compose(string what, SourceLocation? at, string? field, int? column)
    {
        var where = at is null ? "" : at.Value.ToString(column) + ": ";
        var which = field is null ? "" : $"field '{field}': ";
        return where + which + what;
    }
}
