using System.Text;

namespace FineTuneAgent.Modeling.Tests.Tokenization;

/// <summary>
/// Texts on which our tokenizers must agree with the reference: scripts, code, numbers, emoji,
/// whitespace, special tokens, contractions, odd Unicode, and seeded random mixes of all of them.
/// </summary>
internal static class ParityCorpus
{
    private static readonly string[] s_fragments =
    [
        "Hello", " world", "The quick brown fox jumps over the lazy dog.", " ", "  ", "   ", "\n", "\n\n", "\r\n",
        "\t", "\t\t", " \n", "\n ", "I'M", "'S", "'LL", "'ve", "'d", "don't", "O'Neil's", "'", "''",
        "你好", "，", "世界", "！", "我们的模型", "こんにちは", "東京", "カタカナ", "ｶﾀｶﾅ", "안녕하세요",
        "Привет", "مرحبا", "नमस्ते", "สวัสดี", "Γειά σου", " việc", " nhiều", "mektedir", "lardan",
        "0", "7", "42", "123", "2024", "3.14159", "1,000,000", "12345678901", "٣٤٥", "①②", "Ⅻ", "𝟘𝟙",
        "😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "🇺🇸", "𠀀", "𝐀𝐁", "𐐀𐐨",
        "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "</think>", "<tool_call>",
        "<|begin_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<s>", "</s>", "<unk>", "<|im_start",
        "def f(x):", "    return x", "{\"a\": 1}", "=>", "!!!", "...", "---", "/* */", "#", "@user",
        "e\u0301", "n\u0303", "\u212B", "\u1100\u1161\u11A8", "\u00A0", "\u3000", "\u2000", "\u200B", "\u200D",
        "\uFEFF", "\uFFFD", "\u0085", "\u000B", "\u000C", "\u0000", "\u007F", "ſ", "K",
    ];

    // Declared after s_fragments, which Build uses.
    public static IReadOnlyList<string> Texts { get; } = Build();

    /// <summary>Texts with unpaired surrogates and the same text with each replaced by U+FFFD,
    /// which is what HF tokenizers receives when such a string is converted to UTF-8.</summary>
    public static IReadOnlyList<(string Input, string AsUtf8)> LoneSurrogates { get; } =
    [
        ("a\uD800b", "a\uFFFDb"),
        ("\uDC00", "\uFFFD"),
        ("cut emoji \uD83D", "cut emoji \uFFFD"),
        ("\uDE00 low first", "\uFFFD low first"),
        ("\uD83D\uDE00\uD83D", "\uD83D\uDE00\uFFFD"),
        ("x\uDBFF\uDBFFy", "x\uFFFD\uFFFDy"),
        ("<|im_start|>\uD800<|im_end|>", "<|im_start|>\uFFFD<|im_end|>"),
    ];

    private static List<string> Build()
    {
        var texts = new List<string>
        {
            "", " ", "  ", "\n", "\r\n", "\t", "\r", "Hello world", "Hello world ", "Hello world\n", " leading space",
            "trailing spaces   ", "trailing newlines\n\n\n", "line1\r\nline2\r\n", "a\n\n\nb", "tabs\tand\t\tmore\t",
            "   \n  \n\t \u00A0\u3000 x", "\u2000\u2001 spaces", "a\u0085b", "\u000B\u000C", "x \n y\t\n z",
            "The quick brown fox jumps over the lazy dog. It wasn't the first time; it won't be the last! " +
            "\"Quoted,\" she said -- and then (parenthetically) moved on...",
            "I'M HERE, YOU'LL SEE. IT'S 'S 'LL 'Ve 'D 'RE 'M 'T", "don't won't can't shouldn't've", "'s's's",
            "O'Neil's dog's bone", "'ſ and 'ſt", "'K'", "Hello .", "Hello , world ! Is it ?",
            "你好，世界！今天天气很好。我们去公园散步吧。",
            string.Concat(Enumerable.Repeat("中华人民共和国成立于一九四九年十月一日首都北京", 12)),
            "こんにちは、世界。東京は日本の首都です。カタカナとひらがな。", "ｶﾀｶﾅ半角ﾃｷｽﾄ", "안녕하세요 세계",
            "\u1100\u1161\u11A8 decomposed Hangul", "e\u0301 cafe\u0301 n\u0303 ñ", "\u212B \u00C5 A\u030A", "\u1E9B\u0323",
            "Здравствуйте, мир! Ελληνικά. العربية. हिन्दी. ไทย.",
            // Whole vocabulary entries that Llama 3's merges would not reach: ignore_merges matters.
            " việc hợp nhiều điều Việt ngoài nhiên biệt", "ektedir mektedir lardan jeho yapılmaktadır", " ایران аракт",
            "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
            "\tint main() {\n\t\tprintf(\"hi\\n\");\n\t\treturn 0;\n\t}\n",
            "{\n  \"name\": \"x\",\n  \"values\": [1, 2, 3],\n  \"nested\": {\"a\": null}\n}",
            "public sealed class Foo : IBar\r\n{\r\n    private readonly int _x = 42;\r\n}\r\n",
            "1", "12", "123", "1234", "12345", "123456789012345678901234567890", "3.14159 2.71828", "1,000,000.00",
            "Call 555-1234 or +1 (800) 555-0199", "٣٤٥ ①②③ Ⅻ 𝟘𝟙𝟚", "v1.2.3-beta+45",
            "😀", "😀abc", "abc😀", "a😀b😀c", "😀 😀  😀", "👍🏽👍🏿", "👨‍👩‍👧‍👦 family", "🏳️‍🌈", "❤️‍🔥", "🇺🇸🇩🇪",
            "𠀀𠀁𠀂", "a𠀀b", "𝐀𝐁𝐂 bold", "𐐀𐐨 Deseret", "🎉🎉🎉!!!",
            "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n" +
            "<|im_start|>assistant\n<think>\nhmm\n</think>\n\nAnswer<|im_end|>",
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
            "<s>hello</s>", "<s> hello </s>", "text<|endoftext|>more", "<|im_start|><|im_start|>", "<|im_start",
            "< |im_start|>", "<think></think>", "<unk>", "x<unk>y", "<tool_call>\n{\"name\": \"f\"}\n</tool_call>",
            "!!!???...", "=====", "----\n----", "#include <stdio.h>", "http://example.com/path?q=1&r=2#frag",
            "\uFFFD", "\uFEFF BOM", "\u200B zero width", "\u0000\u0001\u007F", "a\u200Db", "trailing \u200D",
            "MiXeD CaSe WoRdS ABC abc", "snake_case camelCase PascalCase kebab-case", "@user #tag $100 50% a&b",
            new string(' ', 40) + "x", new string('\n', 30), new string('=', 300), new string('a', 500),
            string.Concat(Enumerable.Repeat("ab", 200)),
        };

        var random = new Random(20261122);
        texts.Add(RandomBase64(random, 2000));
        texts.Add(LongMixedText(random, 3000));
        for (var i = 0; i < 250; i++)
        {
            var sb = new StringBuilder();
            var count = random.Next(1, 12);
            for (var j = 0; j < count; j++)
            {
                sb.Append(s_fragments[random.Next(s_fragments.Length)]);
            }
            texts.Add(sb.ToString());
        }
        return texts;
    }

    private static string RandomBase64(Random random, int length)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        return string.Create(length, random, (span, r) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = alphabet[r.Next(alphabet.Length)];
            }
        });
    }

    private static string LongMixedText(Random random, int approximateLength)
    {
        var sb = new StringBuilder();
        while (sb.Length < approximateLength)
        {
            sb.Append(s_fragments[random.Next(s_fragments.Length)]);
        }
        return sb.ToString();
    }
}
