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
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(TokenizeCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(PluginsCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(HardwareCommand.Create());
        root.Subcommands.Add(RecommendCommand.Create());
        root.Subcommands.Add(ProfilesCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(RunsCommand.Create());
        root.Subcommands.Add(ConfigCommand.Create());
        root.Subcommands.Add(AgentCommand.Create());
        root.Subcommands.Add(ConsoleCommand.Create());
        root.Subcommands.Add(ClusterCommand.Create());
        root.Subcommands.Add(WorkerCommand.Create());
        try
        {
            return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (UserError.IsUserError(e))
        {
            System.Console.Error.WriteLine($"fta: error: {e.Message}");
            return 1;
        }
    }
}
