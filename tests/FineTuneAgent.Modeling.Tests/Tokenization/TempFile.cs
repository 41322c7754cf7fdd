namespace FineTuneAgent.Modeling.Tests.Tokenization;

/// <summary>A temporary file deleted on dispose.</summary>
internal sealed class TempFile : IDisposable
{
    public TempFile(string content, string name = "tokenizer.json")
    {
        Directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"fta-tokenizer-test-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Directory);
        Path = System.IO.Path.Combine(Directory, name);
        File.WriteAllText(Path, content);
    }

    public string Directory { get; }

    public string Path { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
