using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Modeling.Chat;
using FineTuneAgent.Modeling.Checkpoints;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Generation;
using FineTuneAgent.Modeling.Tokenization;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Console.Commands;

/// <summary>`fta generate`: continues a prompt with a model folder in HF layout.</summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model folder (config.json + safetensors).", Required = true };
        var prompt = new Option<string?>("--prompt") { Description = "Prompt text (tokenized with the model folder's tokenizer)." };
        var promptIds = new Option<string?>("--prompt-ids") { Description = "Prompt as comma-separated token ids, e.g. 1,2,3." };
        var chat = new Option<bool>("--chat") { Description = "Wrap --prompt as a user turn in the model's chat format and ask for the assistant's reply." };
        var system = new Option<string?>("--system") { Description = "System prompt for --chat." };
        var noThinking = new Option<bool>("--no-thinking") { Description = "With --chat on Qwen3: enable_thinking=false." };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Tokens to generate at most.", DefaultValueFactory = _ => 32 };
        var greedy = new Option<bool>("--greedy") { Description = "Pick the most likely token (overrides generation_config.json's do_sample)." };
        var temperature = new Option<double?>("--temperature") { Description = "Sample with this temperature." };
        var topP = new Option<double?>("--top-p") { Description = "Nucleus sampling mass." };
        var topK = new Option<int?>("--top-k") { Description = "Sample among the k most likely tokens (0: all)." };
        var repetition = new Option<double?>("--repetition-penalty") { Description = "HF repetition penalty (1: off)." };
        var seed = new Option<int>("--seed") { Description = "Sampling seed.", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var command = new Command("generate", "Generate a continuation of a prompt.") { model, prompt, promptIds, chat, system, noThinking, maxNew, greedy, temperature, topP, topK, repetition, seed, json };
        command.SetAction(parse =>
        {
            var dir = parse.GetValue(model)!;
            var config = ModelConfigReader.Load(Path.Combine(dir, Checkpoint.ConfigFileName));
            Tokenizer? tokenizer = null;
            IChatFormat? format = null;
            int[] ids;
            switch (parse.GetValue(prompt), parse.GetValue(promptIds))
            {
                case (null, { } text):
                    ids = ParseIds(text);
                    break;
                case ({ } text, null):
                    tokenizer = Tokenizer.FromDirectory(dir);
                    if (parse.GetValue(chat))
                    {
                        using var plugins = PluginHost.Load();
                        format = ChatFormats.Get(plugins.TemplateFor(config.ModelType).ChatFormatFor(config));
                        var messages = new List<ChatMessage>();
                        if (parse.GetValue(system) is { } sys)
                            messages.Add(ChatMessage.System(sys));
                        messages.Add(ChatMessage.User(text));
                        var renderOptions = new ChatRenderOptions { AddGenerationPrompt = true, EnableThinking = !parse.GetValue(noThinking) };
                        var tok = tokenizer;
                        ids = format.Render(new Conversation(messages), renderOptions, s => tok.Encode(s, addSpecialTokens: false)).InputIds;
                    }
                    else
                    {
                        ids = tokenizer.Encode(text, addSpecialTokens: true);
                    }
                    break;
                default:
                    throw new ArgumentException("give exactly one of --prompt and --prompt-ids");
            }
            if (ids.Length == 0)
                throw new ArgumentException("the prompt has no tokens");
            using var lm = Checkpoint.Load(dir, ScalarType.Float32);
            // generation_config.json gives the defaults, as in HF generate(); flags override them.
            var defaults = GenerationConfig.Load(dir, lm.Config);
            var options = defaults with
            {
                MaxNewTokens = parse.GetValue(maxNew),
                DoSample = !parse.GetValue(greedy) && (parse.GetValue(temperature) is not null || defaults.DoSample),
                Temperature = parse.GetValue(temperature) ?? defaults.Temperature,
                TopP = parse.GetValue(topP) ?? defaults.TopP,
                TopK = parse.GetValue(topK) ?? defaults.TopK,
                RepetitionPenalty = parse.GetValue(repetition) ?? defaults.RepetitionPenalty,
                Seed = parse.GetValue(seed),
            };
            if (format is not null && tokenizer is not null)
            {
                // A chat reply ends at the format's end-of-turn token even if generation_config lacks it.
                var endOfTurn = format.EndOfTurnTokens.Select(tokenizer.TokenToId).OfType<int>();
                options = options with { EosTokenIds = options.EosTokenIds.Concat(endOfTurn).Distinct().ToList() };
            }
            var clock = Stopwatch.StartNew();
            var result = Generator.Generate(lm, [ids], options)[0];
            var seconds = clock.Elapsed.TotalSeconds;
            if (parse.GetValue(json))
            {
                System.Console.WriteLine(JsonSerializer.Serialize(new
                {
                    prompt_ids = ids,
                    new_ids = result.NewTokens,
                    text = tokenizer?.Decode(result.NewTokens, skipSpecialTokens: true),
                    finish_reason = result.FinishReason.ToString(),
                    tokens_per_s = result.NewTokens.Count / seconds,
                }));
            }
            else
            {
                System.Console.WriteLine(tokenizer is null ? string.Join(",", result.NewTokens) : tokenizer.Decode(result.NewTokens, skipSpecialTokens: true));
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
