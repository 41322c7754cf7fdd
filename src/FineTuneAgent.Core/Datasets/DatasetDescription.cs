namespace FineTuneAgent.Core.Datasets;

/// <summary>
/// One dataset file and how to read it: a dataset_info.json entry (see <see cref="DatasetInfoFile"/>)
/// or built in code. <see cref="Name"/> is what reports call it (the file name by default).
/// </summary>
public sealed record DatasetDescription(string FilePath)
{
    public DatasetFormat Format { get; init; } = DatasetFormat.Alpaca;

    public DatasetColumns Columns { get; init; } = DatasetColumns.Default;

    public DatasetTags Tags { get; init; } = DatasetTags.Default;

    public string Name { get; init; } = Path.GetFileName(FilePath);

    public static DatasetDescription Alpaca(string path) => new(path);

    public static DatasetDescription ShareGpt(string path) => new(path) { Format = DatasetFormat.ShareGpt };
}
