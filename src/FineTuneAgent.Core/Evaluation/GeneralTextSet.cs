using System.Text;
using System.Text.Json;
using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Modeling.Tokenization;

namespace FineTuneAgent.Core.Evaluation;

/// <summary>
/// The forgetting check's texts: everyday English and Chinese prose (the repository's
/// data/general/general_text.jsonl, embedded in this assembly), or a file of the same shape, one
/// <c>{"text": "..."}</c> object per line. Every token carries loss: this is plain language modelling, not chat.
/// </summary>
public static class GeneralTextSet
{
    public const string BundledName = "data/general/general_text.jsonl";
    private const string ResourceName = "FineTuneAgent.Core.Evaluation.general_text.jsonl";

    /// <summary>The texts of <paramref name="path"/>, or the bundled set when null.</summary>
    public static IReadOnlyList<string> Load(string? path = null)
    {
        if (path is null)
        {
            using var stream = typeof(GeneralTextSet).Assembly.GetManifestResourceStream(ResourceName)
                ?? throw new InvalidOperationException($"resource {ResourceName} missing from {typeof(GeneralTextSet).Assembly.GetName().Name}");
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return Parse(reader.ReadToEnd(), BundledName);
        }
        if (!File.Exists(path))
            throw new DatasetException("general text file not found", new SourceLocation(path));
        return Parse(File.ReadAllText(path, Encoding.UTF8), path);
    }

    /// <summary>Token ids of each text (with the tokenizer's own special tokens, e.g. Llama's BOS), all of them labels, cut at <paramref name="cutoffLength"/>.</summary>
    public static IReadOnlyList<TrainingSequence> Tokenize(IReadOnlyList<string> texts, ITokenizer tokenizer, int cutoffLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cutoffLength, 2);
        return texts.Select(text =>
        {
            var ids = tokenizer.Encode(text, addSpecialTokens: true);
            if (ids.Length > cutoffLength)
                ids = ids[..cutoffLength];
            return new TrainingSequence(ids, (int[])ids.Clone(), [0]);
        }).Where(row => row.Length >= 2).ToList();
    }

    private static List<string> Parse(string content, string source)
    {
        var texts = new List<string>();
        var lineNumber = 0;
        foreach (var line in content.Split('\n'))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            var at = new SourceLocation(source, lineNumber);
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("text", out var text))
                    throw new DatasetException("expected an object with a \"text\" field", at, "text");
                if (text.ValueKind != JsonValueKind.String)
                    throw new DatasetException($"must be a string, got {RowFields.Kind(text)}", at, "text");
                if (string.IsNullOrWhiteSpace(text.GetString()))
                    throw new DatasetException("is empty", at, "text");
                texts.Add(text.GetString()!);
            }
            catch (JsonException e)
            {
                throw new DatasetException($"malformed JSON line: {e.Message}", at, inner: e);
            }
        }
        if (texts.Count == 0)
            throw new DatasetException("holds no texts", new SourceLocation(source));
        return texts;
    }
}
