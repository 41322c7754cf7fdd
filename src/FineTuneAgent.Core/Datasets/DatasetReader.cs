namespace FineTuneAgent.Core.Datasets;

/// <summary>Reads a dataset file and turns each row into a conversation, per its description.</summary>
public static class DatasetReader
{
    /// <summary>
    /// The rows of <paramref name="description"/>'s file as conversations. A bad row (malformed JSON line,
    /// missing column, wrong type, roles out of order) throws a <see cref="DatasetException"/> naming file and
    /// line, unless <paramref name="skipBadRows"/>, which collects it in <see cref="DatasetReadResult.BadRows"/>.
    /// </summary>
    public static DatasetReadResult Read(DatasetDescription description, bool skipBadRows = false)
    {
        ArgumentNullException.ThrowIfNull(description);
        var bad = new List<DatasetException>();
        void OnBad(DatasetException e)
        {
            if (!skipBadRows)
                throw e;
            bad.Add(e);
        }

        if (!File.Exists(description.FilePath))
            throw new DatasetException("dataset file not found", new SourceLocation(description.FilePath));
        var rows = DatasetFileReader.Read(description.FilePath, OnBad);
        var malformedLines = bad.Count;
        var examples = new List<DatasetExample>(rows.Count);
        foreach (var row in rows)
        {
            try
            {
                var conversation = description.Format switch
                {
                    DatasetFormat.Alpaca => AlpacaConverter.Convert(row, description.Columns),
                    DatasetFormat.ShareGpt => ShareGptConverter.Convert(row, description.Columns, description.Tags),
                    _ => throw new DatasetException($"unknown dataset format {description.Format}", new SourceLocation(description.FilePath)),
                };
                examples.Add(new DatasetExample(conversation, row.At));
            }
            catch (DatasetException e) when (e.At == row.At)
            {
                OnBad(e);
            }
        }
        return new DatasetReadResult(examples, rows.Count + malformedLines, bad);
    }
}
