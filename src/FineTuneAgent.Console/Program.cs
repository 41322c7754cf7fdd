using System.CommandLine;
using FineTuneAgent.Console.Commands;

namespace FineTuneAgent.Console;

public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("fta — FineTuneAgent: fine-tune Qwen3 and Llama models on this workstation and its peers.");
        root.Subcommands.Add(VersionCommand.Create());
        root.Subcommands.Add(ModelCommand.Create());
        return root.Parse(args).Invoke();
    }
}
