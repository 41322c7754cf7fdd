using System.Globalization;
using System.Text;

namespace FineTuneAgent.Core.Evaluation;

/// <summary>
/// How texts are cut into tokens before BLEU and ROUGE are computed.
/// </summary>
/// <remarks>
/// LLaMA-Factory's predict (<c>ComputeSimilarity</c> in src/llamafactory/train/sft/metric.py) scores BLEU-4 on
/// <c>list(pred)</c> against <c>list(label)</c>: Python characters (code points), whitespace included, for every
/// language. <see cref="Characters"/> does exactly that, so our BLEU-4 equals LLaMA-Factory's.
/// <para>
/// Its ROUGE runs over <c>jieba.cut</c> words joined by spaces. jieba needs its 20 MB dictionary and HMM, which
/// we do not ship, so <see cref="Words"/> cuts instead: each CJK ideograph, kana or Hangul syllable is a token
/// on its own (character-level for Chinese), a run of other letters, digits and combining marks is one word
/// (word-level otherwise, as jieba also does for Latin text), and every other character that is not
/// whitespace (punctuation, symbols, CJK punctuation) is a token of its own; whitespace only separates.
/// Where this differs from LLaMA-Factory: Chinese is scored per character where jieba would group
/// dictionary words (我们, 机器学习), so our ROUGE on Chinese is character ROUGE and usually higher than
/// jieba-word ROUGE; jieba may keep one of <c>+#&amp;._%-</c> inside a Latin token its dictionary holds, where
/// we always split them off; plain Latin words, digits and punctuation tokenize the same.
/// </para>
/// </remarks>
public static class TextSegmenter
{
    /// <summary>One string per Unicode code point, whitespace included: Python's <c>list(text)</c>.</summary>
    public static IReadOnlyList<string> Characters(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new List<string>(text.Length);
        foreach (var rune in text.EnumerateRunes())
            result.Add(rune.ToString());
        return result;
    }

    /// <summary>ROUGE tokens: CJK characters alone, runs of other letters/digits/marks as words, other symbols alone.</summary>
    public static IReadOnlyList<string> Words(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new List<string>();
        var word = new StringBuilder();
        void EndWord()
        {
            if (word.Length > 0)
            {
                tokens.Add(word.ToString());
                word.Clear();
            }
        }
        foreach (var rune in text.EnumerateRunes())
        {
            if (Rune.IsWhiteSpace(rune))
            {
                EndWord();
            }
            else if (IsCjk(rune.Value))
            {
                EndWord();
                tokens.Add(rune.ToString());
            }
            else if (IsWordPart(rune))
            {
                word.Append(rune.ToString());
            }
            else
            {
                EndWord();
                tokens.Add(rune.ToString());
            }
        }
        EndWord();
        return tokens;
    }

    /// <summary>
    /// Han ideographs (unified, extensions A–F and beyond in the supplementary planes, compatibility),
    /// Hiragana, Katakana and Hangul syllables: scripts written without spaces between words.
    /// </summary>
    public static bool IsCjk(int codePoint) => codePoint switch
    {
        >= 0x4E00 and <= 0x9FFF => true,   // CJK Unified Ideographs
        >= 0x3400 and <= 0x4DBF => true,   // Extension A
        >= 0x20000 and <= 0x3134F => true, // Extensions B–G and the compatibility supplement
        >= 0xF900 and <= 0xFAFF => true,   // CJK Compatibility Ideographs
        >= 0x3040 and <= 0x30FF => true,   // Hiragana, Katakana
        >= 0xAC00 and <= 0xD7AF => true,   // Hangul syllables
        _ => false,
    };

    private static bool IsWordPart(Rune rune) => Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => true,
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => true,
        UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => true,
        _ => false,
    };
}
