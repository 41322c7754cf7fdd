using System.CommandLine;

namespace FineTuneAgent.Bench;

public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("FineTuneAgent benchmarks: the libtorch binding against libtorch called from C++.");
        root.Subcommands.Add(MatmulCommand.Create());
        root.Subcommands.Add(QuantCommand.Create());
        return root.Parse(args).Invoke();
    }
}
