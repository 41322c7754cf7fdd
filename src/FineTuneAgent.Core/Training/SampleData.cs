namespace FineTuneAgent.Core.Training;

/// <summary>
/// The bundled sample datasets (the repository's data/sample, copied beside the fta program by the Console
/// project): what `fta train` trains on when given no data. FTA_SAMPLE_DATA overrides the folder.
/// </summary>
public static class SampleData
{
    public static string DefaultFolder =>
        Environment.GetEnvironmentVariable("FTA_SAMPLE_DATA") is { Length: > 0 } dir ? dir : Path.Combine(AppContext.BaseDirectory, "data", "sample");
}
