using System.CommandLine;
using System.Text.Json;
using FineTuneAgent.Modeling.Tokenization;

namespace FineTuneAgent.Console.Commands;

/// <summary>`fta tokenize`: token ids of each input line, as HF tokenizers would give them.</summary>
public static class TokenizeCommand
{
    public static Command Create()
    {
        var tokenizer = new Option<string>("--tokenizer") { Description = "tokenizer.json, or a model folder holding it.", Required = true };
        var text = new Option<string?>("--text") { Description = "Text to tokenize (each line separately)." };
        var file = new Option<string?>("--file") { Description = "File to tokenize, line by line." };
        var noSpecial = new Option<bool>("--no-special-tokens") { Description = "Do not add the tokenizer's BOS/EOS." };
        var json = new Option<bool>("--json") { Description = "One JSON object per line: text, ids and tokens." };
        var command = new Command("tokenize", "Print the token ids of each input line as a JSON array, one line per input line.") { tokenizer, text, file, noSpecial, json };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(tokenizer)!;
            var tok = Directory.Exists(path) ? Tokenizer.FromDirectory(path) : Tokenizer.FromFile(path);
            var input = (parse.GetValue(text), parse.GetValue(file)) switch
            {
                ({ } t, null) => t,
                (null, { } f) => File.Exists(f) ? File.ReadAllText(f) : throw new FileNotFoundException($"{f}: file not found"),
                _ => throw new ArgumentException("give exactly one of --text and --file"),
            };
            var lines = input.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
            if (lines.Count > 1 && lines[^1].Length == 0)
                lines.RemoveAt(lines.Count - 1);   // a trailing newline ends the last line, it does not start a new one
            var addSpecial = !parse.GetValue(noSpecial);
            foreach (var line in lines)
            {
                var ids = tok.Encode(line, addSpecial);
                System.Console.WriteLine(parse.GetValue(json)
                    ? JsonSerializer.Serialize(new { text = line, ids, tokens = ids.Select(tok.IdToToken) })
                    : JsonSerializer.Serialize(ids));
            }
            return 0;
        });
        return command;
    }
}
