using System.Buffers;
using System.Text;

namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>
/// The <c>ByteLevel</c> pre-tokenizer: optionally prefixes a space and splits with GPT-2's regex,
/// then rewrites each piece as its UTF-8 bytes in the <see cref="ByteLevelAlphabet"/>. Qwen and
/// Llama 3 use it with <c>use_regex: false</c> after their own Split. Unpaired surrogates are
/// encoded as U+FFFD (the tokenizer replaces them before this anyway).
/// </summary>
internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : IPreTokenizer
{
    /// <summary>GPT-2's pre-tokenization regex, as HF tokenizers' ByteLevel uses it.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private static readonly Lazy<TextPattern> s_gpt2 = new(() => TextPattern.Regex(Gpt2Pattern));

    public void PreTokenize(PreToken piece, List<PreToken> output, EncodeScratch scratch)
    {
        var text = piece.Text;
        if (addPrefixSpace && !text.Span.StartsWith(' '))
        {
            var prefixed = scratch.Arena.Allocate(text.Length + 1);
            prefixed.Span[0] = ' ';
            text.Span.CopyTo(prefixed.Span[1..]);
            text = prefixed;
        }
        if (!useRegex)
        {
            output.Add(new PreToken(ToByteLevel(text.Span, scratch.Arena), piece.AtStart));
            return;
        }
        var matches = scratch.Matches;
        matches.Clear();
        s_gpt2.Value.FindMatches(text.Span, matches);
        var pieces = scratch.Pieces;
        pieces.Clear();
        TextSplitter.Split(text.Length, matches, SplitDelimiterBehavior.Isolated, invert: false, pieces);
        foreach (var (start, length) in pieces)
        {
            output.Add(new PreToken(ToByteLevel(text.Span.Slice(start, length), scratch.Arena), piece.AtStart && start == 0));
        }
    }

    /// <summary>The text's UTF-8 bytes, one alphabet character per byte.</summary>
    public static ReadOnlyMemory<char> ToByteLevel(ReadOnlySpan<char> text, CharArena arena)
    {
        var map = ByteLevelAlphabet.ByteToChar;
        if (!text.ContainsAnyExceptInRange('\0', '\u007F'))
        {
            var ascii = arena.Allocate(text.Length);
            var span = ascii.Span;
            for (var i = 0; i < text.Length; i++)
            {
                span[i] = map[text[i]];
            }
            return ascii;
        }
        var maxBytes = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[]? rented = null;
        var bytes = maxBytes <= 1024 ? stackalloc byte[maxBytes] : (rented = ArrayPool<byte>.Shared.Rent(maxBytes));
        try
        {
            var n = Encoding.UTF8.GetBytes(text, bytes);
            var chars = arena.Allocate(n);
            var span = chars.Span;
            for (var i = 0; i < n; i++)
            {
                span[i] = map[bytes[i]];
            }
            return chars;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
