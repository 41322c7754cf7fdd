namespace FineTuneAgent.Core.Export;

/// <summary>
/// The files of a Hugging Face model folder besides config.json and the weights that an exported
/// checkpoint carries over unchanged: generation defaults, tokenizer and chat template, in every
/// layout transformers' tokenizers save (fast tokenizer.json, slow vocab/merges or SentencePiece).
/// </summary>
public static class ModelSideFiles
{
    public static readonly IReadOnlyList<string> Names =
    [
        "generation_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "added_tokens.json",
        "chat_template.jinja",
        "chat_template.json",
        "vocab.json",
        "merges.txt",
        "tokenizer.model",
    ];

    /// <summary>Copies those of <see cref="Names"/> that <paramref name="modelDir"/> has into <paramref name="outDir"/>; returns their names.</summary>
    public static IReadOnlyList<string> Copy(string modelDir, string outDir)
    {
        var copied = new List<string>();
        foreach (var name in Names)
        {
            var source = Path.Combine(modelDir, name);
            if (!File.Exists(source))
                continue;
            File.Copy(source, Path.Combine(outDir, name), overwrite: true);
            copied.Add(name);
        }
        return copied;
    }
}
