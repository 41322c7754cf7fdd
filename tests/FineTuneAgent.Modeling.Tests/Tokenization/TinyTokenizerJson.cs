using System.Text;
using System.Text.Json;

namespace FineTuneAgent.Modeling.Tests.Tokenization;

/// <summary>Small hand-made tokenizer.json files for tests that need a tokenizer but not a real one.</summary>
internal static class TinyTokenizerJson
{
    /// <summary>
    /// A byte-level BPE tokenizer: the 256 byte characters as ids 0-255 (in GPT-2's alphabet
    /// order, ids by byte value), one merge "a b" -> "ab" (id 256), a GPT-2-style ByteLevel
    /// pre-tokenizer and decoder. Parts can be replaced by raw JSON.
    /// </summary>
    public static string ByteLevel(string? addedTokens = null, string? normalizer = null, string? preTokenizer = null,
        string? model = null, string? postProcessor = null, string? decoder = null)
    {
        var vocab = new StringBuilder("{");
        for (var b = 0; b < 256; b++)
        {
            vocab.Append(JsonSerializer.Serialize(ByteChar((byte)b))).Append(": ").Append(b).Append(", ");
        }
        vocab.Append("\"ab\": 256}");
        model ??= $$"""{"type": "BPE", "dropout": null, "unk_token": null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false, "vocab": {{vocab}}, "merges": ["a b"]}""";
        return $$"""
            {
              "version": "1.0",
              "truncation": null,
              "padding": null,
              "added_tokens": {{addedTokens ?? "[]"}},
              "normalizer": {{normalizer ?? "null"}},
              "pre_tokenizer": {{preTokenizer ?? """{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}"""}},
              "post_processor": {{postProcessor ?? "null"}},
              "decoder": {{decoder ?? """{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}"""}},
              "model": {{model}}
            }
            """;
    }

    /// <summary>GPT-2's bytes_to_unicode, written out here independently of the code under test.</summary>
    public static string ByteChar(byte b)
    {
        static bool Printable(int x) => x is >= 0x21 and <= 0x7E or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
        if (Printable(b))
        {
            return ((char)b).ToString();
        }
        var n = Enumerable.Range(0, b).Count(x => !Printable(x));
        return ((char)(256 + n)).ToString();
    }
}
