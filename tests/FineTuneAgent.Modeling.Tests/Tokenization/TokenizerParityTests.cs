using System.Text;
using FineTuneAgent.Modeling.Tokenization;
using Xunit.Abstractions;

namespace FineTuneAgent.Modeling.Tests.Tokenization;

/// <summary>
/// Our tokenizers against @huggingface/tokenizers on the real Qwen3, Llama 3 and Llama 2 files.
/// Every expected value comes from the reference; each test reports all mismatches at once.
/// </summary>
[Collection(ReferenceCollection.Name)]
public sealed class TokenizerParityTests(ReferenceFixture fixture, ITestOutputHelper output)
{
    public static TheoryData<string> ModelNames => new() { "qwen3", "llama3", "llama3-bos", "llama2", "llama2-metaspace" };

    [Theory]
    [MemberData(nameof(ModelNames))]
    public void Encode_WithSpecialTokens_MatchesReference(string model)
    {
        var m = fixture[model];
        output.WriteLine($"reference fixture set up in {fixture.SetupTime.TotalSeconds:F1} s");
        AssertAll(m, m.Texts.Count, i =>
        {
            var ours = m.Tokenizer.Encode(m.Texts[i], addSpecialTokens: true);
            return Compare(ours, m.Encodings[i].Ids);
        });
    }

    [Theory]
    [MemberData(nameof(ModelNames))]
    public void Encode_WithoutSpecialTokens_MatchesReference(string model)
    {
        var m = fixture[model];
        AssertAll(m, m.Texts.Count, i => Compare(m.Tokenizer.Encode(m.Texts[i], addSpecialTokens: false), m.Encodings[i].IdsNoSpecial));
    }

    /// <summary>
    /// The pre-tokenizer alone (the Split regexes, ByteLevel, Metaspace) against the reference,
    /// which sees more than ids do. One known difference is left out: the reference folds case
    /// ASCII-only inside (?i:...), so it does not split "'ſt" as Oniguruma does (ſ U+017F folds to
    /// s); PreTokenizerTests covers that case.
    /// </summary>
    [Theory]
    [MemberData(nameof(ModelNames))]
    public void PreTokenize_MatchesReference(string model)
    {
        var m = fixture[model];
        if (m.PreTokens is null)
        {
            Assert.Null(m.Tokenizer.PreTokenize("x"));
            return;
        }
        AssertAll(m, ParityCorpus.Texts.Count, i =>
        {
            var text = ParityCorpus.Texts[i];
            if (text.Contains('ſ', StringComparison.Ordinal))
            {
                return null;
            }
            var ours = m.Tokenizer.PreTokenize(text)!;
            return ours.SequenceEqual(m.PreTokens[i])
                ? null
                : $"[{string.Join(", ", ours.Take(12).Select(Show))}] != [{string.Join(", ", m.PreTokens[i].Take(12).Select(Show))}]";
        });
    }

    [Theory]
    [MemberData(nameof(ModelNames))]
    public void Decode_OfReferenceIds_MatchesReference(string model)
    {
        var m = fixture[model];
        AssertAll(m, m.Texts.Count, i =>
        {
            var e = m.Encodings[i];
            var plain = m.Tokenizer.Decode(e.IdsNoSpecial);
            var skip = m.Tokenizer.Decode(e.Ids, skipSpecialTokens: true);
            return plain != e.Decoded ? $"decode: {Show(plain)} != {Show(e.Decoded)}"
                : skip != e.DecodedSkip ? $"decode(skip): {Show(skip)} != {Show(e.DecodedSkip)}"
                : null;
        });
    }

    [Theory]
    [MemberData(nameof(ModelNames))]
    public void Decode_ByteSequencesAndSpecialTokens_MatchesReference(string model)
    {
        var m = fixture[model];
        AssertAll(m, m.Decodings.Count, i =>
        {
            var r = m.Decodings[i];
            var ids = r.Ids;
            var plain = m.Tokenizer.Decode(ids);
            var skip = m.Tokenizer.Decode(ids, skipSpecialTokens: true);
            var cleanUp = m.Tokenizer.Decode(ids, false, m.Tokenizer.Config.CleanUpTokenizationSpaces);
            return plain != r.Text ? $"[{string.Join(',', ids)}]: {Show(plain)} != {Show(r.Text)}"
                : skip != r.TextSkip ? $"[{string.Join(',', ids)}] skip: {Show(skip)} != {Show(r.TextSkip)}"
                : cleanUp != r.TextCleanUp ? $"[{string.Join(',', ids)}] clean-up: {Show(cleanUp)} != {Show(r.TextCleanUp)}"
                : null;
        }, onTexts: false);
    }

    /// <summary>
    /// decode(encode(x)) == x, NFC(x) for Qwen. Llama 2's SentencePiece style loses information by
    /// design, as it does in HF: the legacy normalizer prepends '▁' to the text after each added
    /// token (decoded as an extra space), and the Metaspace variant drops a leading space. For
    /// those, the property is checked on the texts it holds for; the decode parity tests above
    /// show the rest matches the reference.
    /// </summary>
    [Theory]
    [MemberData(nameof(ModelNames))]
    public void DecodeOfEncode_AnyValidText_RoundTrips(string model)
    {
        var m = fixture[model];
        var addedTokens = m.Tokenizer.AddedTokens.Select(t => t.Content).ToArray();
        var checkedCount = 0;
        AssertAll(m, m.Texts.Count, i =>
        {
            var text = m.Texts[i];
            if (model.StartsWith("llama2", StringComparison.Ordinal)
                && (addedTokens.Any(t => text.Contains(t, StringComparison.Ordinal))
                    || (model == "llama2-metaspace" && text.StartsWith(' '))))
            {
                return null;
            }
            checkedCount++;
            var expected = m.Nfc ? fixture.ReferenceNfc(text) : text;
            var back = m.Tokenizer.Decode(m.Tokenizer.Encode(text, addSpecialTokens: true), skipSpecialTokens: true);
            var backKeepingSpecials = m.Tokenizer.Decode(m.Tokenizer.Encode(text, addSpecialTokens: false));
            return back != expected && !m.Tokenizer.AddedTokens.Any(t => t.Special && text.Contains(t.Content, StringComparison.Ordinal))
                ? $"{Show(back)} != {Show(expected)}"
                : backKeepingSpecials != expected ? $"{Show(backKeepingSpecials)} != {Show(expected)}" : null;
        });
        output.WriteLine($"{model}: round trip checked on {checkedCount} of {m.Texts.Count} texts");
        Assert.True(checkedCount > m.Texts.Count / 2);
    }

    [Fact]
    public void DecodeOfEncode_QwenNonNfcText_ReturnsReferenceNfc()
    {
        var m = fixture["qwen3"];
        var last = fixture.NfcInputs.Count - 1; // random mark sequences sit at the end of the inputs
        var failures = new List<string>();
        for (var i = last; i > last - 500; i--)
        {
            var text = fixture.NfcInputs[i];
            var back = m.Tokenizer.Decode(m.Tokenizer.Encode(text, addSpecialTokens: false));
            if (back != fixture.NfcReference[i])
            {
                failures.Add($"{Show(text)}: {Show(back)} != {Show(fixture.NfcReference[i])}");
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures.Take(20)));
    }

    [Theory]
    [MemberData(nameof(ModelNames))]
    public void Encode_LoneSurrogates_EqualsReferenceOnReplacementCharacter(string model)
    {
        var m = fixture[model];
        var offset = ParityCorpus.Texts.Count;
        AssertAll(m, ParityCorpus.LoneSurrogates.Count, i =>
        {
            var (input, asUtf8) = ParityCorpus.LoneSurrogates[i];
            var failure = Compare(m.Tokenizer.Encode(input, addSpecialTokens: true), m.Encodings[offset + i].Ids);
            return failure is null ? null : $"{Show(input)} vs reference on {Show(asUtf8)}: {failure}";
        }, onTexts: false);
    }

    [Theory]
    [MemberData(nameof(ModelNames))]
    public void Encode_ManyThreads_SameIdsAsReference(string model)
    {
        var m = fixture[model];
        var results = new int[m.Texts.Count][];
        Parallel.For(0, m.Texts.Count * 4, new ParallelOptions { MaxDegreeOfParallelism = 4 },
            k => results[k % m.Texts.Count] = m.Tokenizer.Encode(m.Texts[k % m.Texts.Count], addSpecialTokens: false));
        AssertAll(m, m.Texts.Count, i => Compare(results[i], m.Encodings[i].IdsNoSpecial));
    }

    /// <summary>Runs every check and fails with all the mismatches (the first 30 written out).
    /// Checks on corpus texts (index below the text count) are labelled with the text.</summary>
    private void AssertAll(ReferenceFixture.ModelCase model, int count, Func<int, string?> check, bool onTexts = true)
    {
        var failures = new List<string>();
        for (var i = 0; i < count; i++)
        {
            if (check(i) is { } failure)
            {
                var text = onTexts ? model.Texts[i] : "";
                failures.Add(onTexts ? $"#{i} {Show(text.Length > 80 ? text[..80] + "…" : text)}: {failure}" : $"#{i}: {failure}");
            }
        }
        foreach (var f in failures.Take(30))
        {
            output.WriteLine(f);
        }
        Assert.True(failures.Count == 0, $"{model}: {failures.Count} of {count} differ; first: {failures.FirstOrDefault()}");
    }

    private static string? Compare(int[] ours, int[] reference)
    {
        if (ours.AsSpan().SequenceEqual(reference))
        {
            return null;
        }
        var at = 0;
        while (at < ours.Length && at < reference.Length && ours[at] == reference[at])
        {
            at++;
        }
        return $"ids differ at {at}: ours [{string.Join(',', ours.Skip(Math.Max(0, at - 2)).Take(8))}] " +
               $"reference [{string.Join(',', reference.Skip(Math.Max(0, at - 2)).Take(8))}] " +
               $"(lengths {ours.Length} / {reference.Length})";
    }

    internal static string Show(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var rune in s.EnumerateRunes())
        {
            if (rune.Value is < 0x20 or (>= 0x7F and < 0xA0) || Rune.IsWhiteSpace(rune) && rune.Value != ' ')
            {
                sb.Append($"\\u{rune.Value:X4}");
            }
            else
            {
                sb.Append(rune.ToString());
            }
        }
        return sb.Append('"').ToString();
    }
}
