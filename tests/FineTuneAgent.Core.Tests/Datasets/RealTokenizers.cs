using FineTuneAgent.Modeling.Tokenization;

namespace FineTuneAgent.Core.Tests.Datasets;

/// <summary>
/// The real tokenizers scripts/setup.sh fetches into artifacts/tokenizers/{qwen3,llama3}, loaded once.
/// </summary>
internal static class RealTokenizers
{
    private static readonly Lazy<Tokenizer> s_qwen3 = new(() => Tokenizer.FromDirectory(Folder("qwen3")));
    private static readonly Lazy<Tokenizer> s_llama3 = new(() => Tokenizer.FromDirectory(Folder("llama3")));

    public static Tokenizer Qwen3 => s_qwen3.Value;

    public static Tokenizer Llama3 => s_llama3.Value;

    public static string RepoRoot { get; } = FindRoot();

    public static string Folder(string name)
    {
        var folder = Path.Combine(RepoRoot, "artifacts", "tokenizers", name);
        if (!File.Exists(Path.Combine(folder, "tokenizer.json")))
            throw new InvalidOperationException($"{folder}/tokenizer.json missing: run scripts/setup.sh");
        return folder;
    }

    public static IReadOnlyList<string> Files(string name) =>
        [Path.Combine(Folder(name), "tokenizer.json"), Path.Combine(Folder(name), "tokenizer_config.json")];

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "FineTuneAgent.sln")))
                return dir.FullName;
        throw new InvalidOperationException($"FineTuneAgent.sln not found above {AppContext.BaseDirectory}");
    }
}
