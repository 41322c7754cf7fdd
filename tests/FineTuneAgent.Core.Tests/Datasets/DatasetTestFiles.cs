namespace FineTuneAgent.Core.Tests.Datasets;

/// <summary>A temporary folder for dataset files, deleted after the test.</summary>
internal sealed class DatasetTestFiles : IDisposable
{
    public DatasetTestFiles()
    {
        Directory.CreateDirectory(Folder);
    }

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), $"fta-datasets-{Guid.NewGuid():N}");

    public string Write(string name, string content)
    {
        var path = Path.Combine(Folder, name);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>One JSONL line per row, each given as compact JSON.</summary>
    public string Lines(string name, params string[] rows) => Write(name, string.Join("\n", rows) + "\n");

    public void Dispose()
    {
        if (Directory.Exists(Folder))
            Directory.Delete(Folder, recursive: true);
    }
}
