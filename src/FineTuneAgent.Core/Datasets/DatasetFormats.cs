namespace FineTuneAgent.Core.Datasets;

/// <summary>Dataset format names as users write them ("alpaca", "sharegpt").</summary>
public static class DatasetFormats
{
    public static string Name(DatasetFormat format) => format switch
    {
        DatasetFormat.Alpaca => "alpaca",
        DatasetFormat.ShareGpt => "sharegpt",
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    /// <summary>The format named <paramref name="name"/>; a clear error naming <paramref name="at"/> otherwise.</summary>
    public static DatasetFormat Parse(string name, SourceLocation? at = null, string? field = "formatting") =>
        name.Trim().ToLowerInvariant() switch
        {
            "alpaca" => DatasetFormat.Alpaca,
            "sharegpt" => DatasetFormat.ShareGpt,
            _ => throw new DatasetException($"unknown dataset format '{name}' (expected alpaca or sharegpt)", at, field),
        };
}
