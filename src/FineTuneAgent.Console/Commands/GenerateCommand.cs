using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using FineTuneAgent.Modeling.Checkpoints;
using FineTuneAgent.Modeling.Generation;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Console.Commands;

/// <summary>`fta generate`: continues a prompt with a model folder in HF layout.</summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model folder (config.json + safetensors).", Required = true };
        var promptIds = new Option<string?>("--prompt-ids") { Description = "Prompt as comma-separated token ids, e.g. 1,2,3." };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Tokens to generate at most.", DefaultValueFactory = _ => 32 };
        var greedy = new Option<bool>("--greedy") { Description = "Pick the most likely token (default unless --temperature is given)." };
        var temperature = new Option<double?>("--temperature") { Description = "Sample with this temperature." };
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling mass.", DefaultValueFactory = _ => 1.0 };
        var topK = new Option<int>("--top-k") { Description = "Sample among the k most likely tokens (0: all).", DefaultValueFactory = _ => 0 };
        var repetition = new Option<double>("--repetition-penalty") { Description = "HF repetition penalty (1: off).", DefaultValueFactory = _ => 1.0 };
        var seed = new Option<int>("--seed") { Description = "Sampling seed.", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var command = new Command("generate", "Generate a continuation of a prompt.") { model, promptIds, maxNew, greedy, temperature, topP, topK, repetition, seed, json };
        command.SetAction(parse =>
        {
            var ids = ParseIds(parse.GetValue(promptIds) ?? throw new ArgumentException("give --prompt-ids"));
            var dir = parse.GetValue(model)!;
            using var lm = Checkpoint.Load(dir, ScalarType.Float32);
            var sampling = parse.GetValue(temperature) is not null && !parse.GetValue(greedy);
            var options = new GenerationOptions
            {
                MaxNewTokens = parse.GetValue(maxNew),
                DoSample = sampling,
                Temperature = parse.GetValue(temperature) ?? 1.0,
                TopP = parse.GetValue(topP),
                TopK = parse.GetValue(topK),
                RepetitionPenalty = parse.GetValue(repetition),
                EosTokenIds = lm.Config.EosTokenIds,
                PadTokenId = lm.Config.PadTokenId,
                Seed = parse.GetValue(seed),
            };
            var clock = Stopwatch.StartNew();
            var result = Generator.Generate(lm, [ids], options)[0];
            var seconds = clock.Elapsed.TotalSeconds;
            if (parse.GetValue(json))
            {
                System.Console.WriteLine(JsonSerializer.Serialize(new
                {
                    new_ids = result.NewTokens,
                    finish_reason = result.FinishReason.ToString(),
                    tokens_per_s = result.NewTokens.Count / seconds,
                }));
            }
            else
            {
                System.Console.WriteLine(string.Join(",", result.NewTokens));
                System.Console.Error.WriteLine($"{result.NewTokens.Count} tokens in {seconds:F2} s ({result.NewTokens.Count / seconds:F1} tokens/s), finished by {result.FinishReason}");
            }
            return 0;
        });
        return command;
    }

    internal static int[] ParseIds(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
            throw new ArgumentException("--prompt-ids is empty");
        return parts.Select((p, i) => int.TryParse(p, out var id) && id >= 0 ? id : throw new ArgumentException($"--prompt-ids: item {i + 1} ('{p}') is not a token id")).ToArray();
    }
}
