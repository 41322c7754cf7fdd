using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Core.Hardware;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Recommendation;
using FineTuneAgent.Modeling.Config;
using Spectre.Console;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Console.Commands;

/// <summary>
/// `fta recommend`: the best-quality fine-tuning method that fits a model on this machine (or on a
/// device with a given amount of free memory), its batch shape, the reasons with the numbers, and the
/// alternatives.
/// </summary>
public static class RecommendCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "Model folder in Hugging Face layout (its config.json is enough)." };
        var parameters = new Option<string?>("--params") { Description = "A published model size instead of a folder: 0.6B … 32B for qwen3, 1B … 70B for llama." };
        var arch = new Option<string>("--arch") { Description = "Architecture for --params: qwen3 or llama.", DefaultValueFactory = _ => "qwen3" };
        var seqLen = new Option<int>("--seq-len") { Description = "Cutoff length in tokens.", DefaultValueFactory = _ => 1024 };
        var batch = new Option<int>("--batch") { Description = "Effective batch (micro-batch × accumulation) to keep.", DefaultValueFactory = _ => 16 };
        var freeGb = new Option<double?>("--free-gb") { Description = "Plan for a GPU with this much free memory (GB) instead of this machine." };
        var profile = new Option<string?>("--profile") { Description = "Plan for a hardware profile (fta profiles lists them) instead of this machine." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var command = new Command("recommend", "Recommend a fine-tuning method, batch shape and checkpointing for a model on this hardware, with the numbers.")
        {
            model, parameters, arch, seqLen, batch, freeGb, profile, json,
        };
        command.SetAction(parse =>
        {
            var (config, name) = ResolveModel(parse.GetValue(model), parse.GetValue(parameters), parse.GetValue(arch)!);
            if (parse.GetValue(freeGb) is not null && parse.GetValue(profile) is not null)
                throw new ArgumentException("give --free-gb or --profile, not both");
            var (budget, request) = parse.GetValue(profile) is { } named
                ? HardwareProfiles.Named(HardwareProfiles.Load(HardwareProfiles.DefaultFolder), named).Plan()
                : ResolveBudget(parse.GetValue(freeGb));
            request = request with { SequenceLength = parse.GetValue(seqLen), EffectiveBatchSize = parse.GetValue(batch) };
            using var plugins = PluginHost.Load();
            var recommendation = new Recommender(plugins.Method).Recommend(config, name, budget, request);
            if (parse.GetValue(json))
                System.Console.WriteLine(recommendation.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            else
                Print(recommendation);
            return recommendation.Chosen is null ? 2 : 0;
        });
        return command;
    }

    private static (ModelConfig, string) ResolveModel(string? folder, string? size, string arch)
    {
        if ((folder is null) == (size is null))
            throw new ArgumentException("give exactly one of --model DIR or --params SIZE (with --arch)");
        if (folder is not null)
            return (ModelConfigReader.Load(Path.Combine(folder, "config.json")), Path.GetFileName(Path.GetFullPath(folder).TrimEnd('/')));
        return (ReferenceModels.Config(size!, arch), $"{arch} {size!.ToUpperInvariant()}");
    }

    /// <summary>This machine: its usable GPU with the most free memory, else the CPU's available memory in fp32.</summary>
    private static (MemoryBudget, Recommender.Request) ResolveBudget(double? freeGb)
    {
        if (freeGb is { } gb)
        {
            if (!(gb > 0))
                throw new ArgumentException($"--free-gb must be above 0, got {gb}");
            return (MemoryBudget.Gpu($"a GPU with {gb} GB free", (long)(gb * 1e9)), new Recommender.Request());
        }
        return MachineBudget.Of(new HardwareProbe().Probe());
    }

    private static void Print(Recommendation r)
    {
        var console = Terminal.Create();
        if (r.Chosen is { } c)
            console.MarkupLine($"[bold green]{Markup.Escape(c.Label)}[/] for {Markup.Escape(r.Model)} on {Markup.Escape(r.Budget.Device)}: micro-batch {c.MicroBatchSize} × {c.GradientAccumulationSteps}, cutoff {c.CutoffLength}, gradient checkpointing {(c.GradientCheckpointing ? "on" : "off")}{(c.Rank is { } rank ? $", rank {rank}" : "")}");
        else
            console.MarkupLine($"[bold red]Nothing fits[/] {Markup.Escape(r.Model)} on {Markup.Escape(r.Budget.Device)}");
        foreach (var reason in r.Reasons)
            console.MarkupLine($"  • {Markup.Escape(reason)}");
        var table = new Table().AddColumns("Method", "Fits", "Needs", "Micro-batch", "Checkpointing");
        foreach (var p in new[] { r.Chosen }.Concat(r.Alternatives).Concat(r.DoesNotFit).OfType<TrainingPlan>().OrderBy(p => Recommender.Candidates.ToList().FindIndex(x => x.Label == p.Label)))
            table.AddRow(p.Label, p.Fits ? "[green]yes[/]" : "[red]no[/]", Recommender.Gb(p.Estimate.TotalBytes), $"{p.MicroBatchSize} × {p.GradientAccumulationSteps}", p.GradientCheckpointing ? "on" : "off");
        console.Write(table);
        var chart = new BarChart().Label($"Memory needed (GB); usable: {r.Budget.UsableBytes / 1e9:F1}").Width(70);
        foreach (var p in new[] { r.Chosen }.Concat(r.Alternatives).Concat(r.DoesNotFit).OfType<TrainingPlan>().OrderBy(p => Recommender.Candidates.ToList().FindIndex(x => x.Label == p.Label)))
            chart.AddItem(p.Label, Math.Round(p.Estimate.TotalBytes / 1e9, 1), p.Fits ? Color.Green : Color.Red);
        console.Write(chart);
    }
}
