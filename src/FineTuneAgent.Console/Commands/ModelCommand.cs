using System.CommandLine;
using FineTuneAgent.Core.Models;
using FineTuneAgent.Core.Plugins;

namespace FineTuneAgent.Console.Commands;

/// <summary>`fta model init`: writes a built-in random-initialised model in Hugging Face layout.</summary>
public static class ModelCommand
{
    public static Command Create()
    {
        var template = new Option<string>("--template") { Description = "Model family: qwen3 or llama.", Required = true };
        var size = new Option<string>("--size") { Description = "tiny (trains in seconds on a CPU) or small.", DefaultValueFactory = _ => "tiny" };
        var output = new Option<string>("--out") { Description = "Folder to create (must be new or empty).", Required = true };
        var seed = new Option<int>("--seed") { Description = "Random seed for the weights.", DefaultValueFactory = _ => 0 };
        var init = new Command("init", "Write a random-initialised checkpoint with the family's real tokenizer and chat template.") { template, size, output, seed };
        init.SetAction(parse =>
        {
            using var plugins = PluginHost.Load();
            var t = plugins.TemplateNamed(parse.GetValue(template)!);
            var config = BuiltInModel.Create(t, parse.GetValue(size)!, parse.GetValue(output)!, parse.GetValue(seed), progress: m => System.Console.Error.WriteLine(m));
            System.Console.WriteLine($"wrote {parse.GetValue(output)} ({t.Name} {parse.GetValue(size)}, {config.ParameterCount():N0} parameters)");
            return 0;
        });
        return new Command("model", "Create and inspect models.") { init };
    }
}
