namespace FineTuneAgent.Agent.Tests;

internal static class Repo
{
    /// <summary>The folder holding FineTuneAgent.sln, above the test assembly.</summary>
    public static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "FineTuneAgent.sln")))
                return dir.FullName;
        throw new InvalidOperationException("repository root not found");
    }
}
