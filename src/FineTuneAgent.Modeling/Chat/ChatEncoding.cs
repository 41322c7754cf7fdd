namespace FineTuneAgent.Modeling.Chat;

/// <summary>
/// Encodes a rendered conversation segment by segment, so every id belongs to exactly one segment and
/// takes its loss flag.
/// </summary>
/// <remarks>
/// Encoding the segments one by one gives the same ids as encoding the whole text when no token can
/// span a border. A tokenizer first cuts the text at special tokens, then its pre-tokenizer cuts each
/// piece into words, and BPE never merges across either cut. The formats put borders only
/// <list type="bullet">
/// <item>next to a special token (<c>&lt;|im_end|&gt;</c>, <c>&lt;|eot_id|&gt;</c>, <c>&lt;think&gt;</c>, <c>&lt;/s&gt;</c>, <c>&lt;s&gt;</c>…), or</item>
/// <item>after a header's final newline(s) in front of text that does not start with whitespace. The
/// byte-level pre-tokenizers of Qwen3 and Llama 3 match a newline run on its own there
/// (<c>\s*[\r\n]+</c>), and Llama 3 trims content so its borders always look like this.</item>
/// </list>
/// The exception is Qwen3 assistant content that starts with whitespace holding a newline (the
/// template keeps such content verbatim in history turns): the whole text would merge that newline
/// with the header's, whereas per-segment encoding keeps the header's newline apart, which is also
/// what the model sees at inference, when the prompt ending in the header is encoded on its own.
/// Llama 2's SentencePiece tokenizer prepends "▁" to each piece of text it encodes; see
/// <see cref="Llama2ChatFormat"/> for how its assistant turns are encoded. Tests check these claims
/// with the real tokenizers (ChatTokenBoundaryTests).
/// </remarks>
internal static class ChatEncoding
{
    public static ChatTokens Encode(RenderedChat chat, Func<string, IReadOnlyList<int>> encode, Func<ChatSegment, string>? textToEncode = null)
    {
        ArgumentNullException.ThrowIfNull(encode);
        var ids = new List<int>();
        var mask = new List<bool>();
        foreach (var segment in chat.Segments)
        {
            var text = textToEncode?.Invoke(segment) ?? segment.Text;
            if (text.Length == 0)
                continue;
            var segmentIds = encode(text) ?? throw new InvalidOperationException("the encoder returned null for a segment");
            ids.AddRange(segmentIds);
            for (var i = 0; i < segmentIds.Count; i++)
                mask.Add(segment.CarriesLoss);
        }
        return new ChatTokens([.. ids], [.. mask]);
    }
}
