using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Core.Evaluation;

namespace FineTuneAgent.Core.Tests.Evaluation;

/// <summary>
/// BLEU-4, ROUGE-1/2/L and exact match against published examples, hand computations from the definitions,
/// and tests/compat/similarity_reference.py (nltk's sentence_bleu with method3 and rouge-chinese's scores,
/// re-implemented in plain Python from their definitions, with its own segmenter).
/// </summary>
public class SimilarityMetricsTests
{
    private static readonly string[] s_nltkHypothesis1 =
        ["It", "is", "a", "guide", "to", "action", "which", "ensures", "that", "the", "military", "always", "obeys", "the", "commands", "of", "the", "party"];

    private static readonly string[] s_nltkReference1 =
        ["It", "is", "a", "guide", "to", "action", "that", "ensures", "that", "the", "military", "will", "forever", "heed", "Party", "commands"];

    [Fact]
    public void SentenceBleu4_NltkDocstringExample_Is0Point4118()
    {
        // nltk/translate/bleu_score.py, SmoothingFunction docstring: sentence_bleu([reference1], hypothesis1,
        // smoothing_function=chencherry.method3) prints 0.4118...
        var bleu = Bleu.SentenceBleu4(s_nltkReference1, s_nltkHypothesis1);
        Assert.Equal(0.4118, Math.Floor(bleu * 10000) / 10000);
    }

    [Fact]
    public void ModifiedPrecision_NltkDocstringExamples()
    {
        // modified_precision docstring: "the the the the the the the" against "the cat is on the mat" → 2/7 = 0.2857...
        Assert.Equal((2L, 7L), Bleu.ModifiedPrecision("the cat is on the mat".Split(' '), "the the the the the the the".Split(' '), 1));
        // hypothesis1 against reference1 alone, counted by hand:
        var (m1, t1) = Bleu.ModifiedPrecision(s_nltkReference1, s_nltkHypothesis1, 1);
        Assert.Equal(18, t1);
        // It is a guide to action ensures that the military commands: 11; the hypothesis's other two "the" are
        // clipped (the reference has one), "party" ≠ "Party".
        Assert.Equal(11, m1);
    }

    [Fact]
    public void SentenceBleu4_Method3_SmoothsEachMissingOrderByTheNextPowerOfTwo()
    {
        // Hand computation: hypothesis "abcx" vs reference "abcd" (characters). Unigrams 3/4, bigrams 2/3,
        // trigrams 1/2, 4-grams 0/1 → smoothed 1/(2¹·1); c = r = 4 → BP 1. BLEU = (3/4 · 2/3 · 1/2 · 1/2)^¼.
        var expected = Math.Pow(0.75 * (2.0 / 3) * 0.5 * 0.5, 0.25);
        Assert.Equal(expected, Bleu.SentenceBleu4(["a", "b", "c", "d"], ["a", "b", "c", "x"]), 12);
        // Two orders missing: "axbx" vs "abcd": unigrams 2/4, bigrams 0/3 → 1/(2·3), trigrams 0/2 → 1/(4·2),
        // 4-grams 0/1 → 1/(8·1).
        var twoMissing = Math.Pow(0.5 * (1.0 / 6) * (1.0 / 8) * (1.0 / 8), 0.25);
        Assert.Equal(twoMissing, Bleu.SentenceBleu4(["a", "b", "c", "d"], ["a", "x", "b", "x"]), 12);
    }

    [Fact]
    public void SentenceBleu4_NoUnigramMatchOrEmptyHypothesis_IsZero_AndShortHypothesisIsPenalised()
    {
        Assert.Equal(0, Bleu.SentenceBleu4(["a", "b"], ["c", "d"]));
        Assert.Equal(0, Bleu.SentenceBleu4(["a", "b"], []));
        Assert.Equal(0, Bleu.SentenceBleu4([], ["a"]));
        // brevity_penalty docstrings: 28 vs 12 → 0.2635971381157267; 8 vs 7 → 0.8668...
        Assert.Equal(0.2635971381157267, Bleu.BrevityPenalty(28, 12), 15);
        Assert.Equal(0.8668, Math.Floor(Bleu.BrevityPenalty(8, 7) * 10000) / 10000);
        Assert.Equal(1, Bleu.BrevityPenalty(12, 13));
    }

    [Fact]
    public void Rouge_PublishedCharacterLevelChineseExample()
    {
        // tw_rouge README (a pltrdy-rouge wrapper that scores Chinese per character):
        // get_rouge('我是人', '我是一個人') → rouge-1 f 0.7499999953125 p 1.0 r 0.6; rouge-2 f 0.33333332888888895;
        // rouge-l f 0.7499999953125.
        var hyp = TextSegmenter.Words("我是人");
        var reference = TextSegmenter.Words("我是一個人");
        Assert.Equal(["我", "是", "人"], hyp);
        var r1 = Rouge.N(hyp, reference, 1);
        Assert.Equal(0.7499999953125, r1.F, 15);
        Assert.Equal(1.0, r1.Precision);
        Assert.Equal(0.6, r1.Recall, 15);
        Assert.Equal(0.33333332888888895, Rouge.N(hyp, reference, 2).F, 15);
        Assert.Equal(0.7499999953125, Rouge.L(hyp, reference).F, 15);
    }

    [Fact]
    public void RougeN_CountsDistinctNGrams_AsRougeChineseDefaultExclusive()
    {
        // "a a a b" vs "a b": distinct unigrams {a, b} vs {a, b} → P = R = 1 (with clipped counts P would be 2/4).
        var r1 = Rouge.N(["a", "a", "a", "b"], ["a", "b"], 1);
        Assert.Equal(1.0, r1.Precision);
        Assert.Equal(1.0, r1.Recall);
        // ROUGE-L uses the whole lists: LCS("a a a b", "a b") = 2 → P = 2/4, R = 1.
        var rl = Rouge.L(["a", "a", "a", "b"], ["a", "b"]);
        Assert.Equal(0.5, rl.Precision);
        Assert.Equal(1.0, rl.Recall);
        Assert.Equal(2 * 0.5 / (1.5 + 1e-8), rl.F, 15);
    }

    [Fact]
    public void Words_CutsCjkPerCharacter_LatinPerWord_PunctuationAlone()
    {
        Assert.Equal(["Hello", ",", "world", "!", "你", "好", "，", "GPT", "-", "4", "。"], TextSegmenter.Words("Hello, world! 你好，GPT-4。"));
        Assert.Equal(["naïve", "café", "x2"], TextSegmenter.Words("  naïve\tcafé\nx2 "));
        Assert.Equal(["𠀀", "ab"], TextSegmenter.Words("𠀀ab")); // a supplementary-plane ideograph is one character
        Assert.Equal(["a", " ", "𠀀"], TextSegmenter.Characters("a 𠀀"));
    }

    [Fact]
    public void PythonRound_RoundsTheExactBinaryValue_TiesToEven()
    {
        // Python 3: round(2.675, 2) == 2.67, round(0.125, 2) == 0.12, round(0.375, 2) == 0.38, round(33.33333333, 4) == 33.3333
        Assert.Equal(2.67, PythonRound.Round(2.675, 2));
        Assert.Equal(0.12, PythonRound.Round(0.125, 2));
        Assert.Equal(0.38, PythonRound.Round(0.375, 2));
        Assert.Equal(33.3333, PythonRound.Round(33.33333333, 4));
        Assert.Equal(-1.5, PythonRound.Round(-1.45000001, 1));
    }

    [Fact]
    public void ExactMatch_NormalisesCasePunctuationArticlesAndWidth_ForShortAnswersOnly()
    {
        Assert.True(ExactMatch.Matches("The  Eiffel Tower.", "eiffel tower"));
        Assert.True(ExactMatch.Matches("北京。", "北京"));
        Assert.True(ExactMatch.Matches("ＡＢＣ１２３！", "abc123")); // full-width forms → ASCII
        Assert.False(ExactMatch.Matches("Paris", "London"));
        Assert.True(ExactMatch.IsShortAnswer("Paris"));
        Assert.False(ExactMatch.IsShortAnswer(string.Join(' ', Enumerable.Repeat("word", ExactMatch.ShortAnswerMaxTokens + 1))));
        var scores = SimilarityMetrics.Mean([SimilarityMetrics.Score("Paris.", "Paris"), SimilarityMetrics.Score("Rome", "Paris"),
            SimilarityMetrics.Score("long", string.Join(' ', Enumerable.Repeat("word", 20)))]);
        Assert.Equal(50.0, scores.ExactMatch);
        Assert.Equal(2, scores.ShortAnswers);
        Assert.Equal(3, scores.Samples);
    }

    public static TheoryData<string, string> Pairs() => new()
    {
        { "我是人", "我是一個人" },
        { "The cat sat on the mat.", "The cat is on the mat." },
        { "机器学习是人工智能的一个分支。", "机器学习是人工智能的分支之一，它让计算机从数据中学习。" },
        { "Fine-tuning adapts a pretrained model to a task, using a small dataset.", "Fine-tuning adapts a pre-trained model to a new task with a small dataset." },
        { "LoRA 在冻结的权重旁训练低秩矩阵 A 和 B。", "LoRA 冻结原始权重，只训练低秩矩阵 A、B。" },
        { "the the the the", "the cat" },
        { "", "anything" },
        { "完全不同", "nothing alike" },
        { "Paris", "Paris" },
        { "a b c d e f g h i j k l m n o p", "a b c d e f g h i j k l m n o q" },
    };

    [Fact]
    public void Score_EqualsTheIndependentPythonReference()
    {
        var pairs = Pairs().Select(row => ((string)row[0], (string)row[1])).ToList();
        var dir = Path.Combine(Path.GetTempPath(), $"fta-sim-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var input = Path.Combine(dir, "in.json");
            var output = Path.Combine(dir, "out.json");
            File.WriteAllText(input, JsonSerializer.Serialize(pairs.Select(p => new { prediction = p.Item1, reference = p.Item2 })));
            CompatPython.Run("similarity_reference.py", input, output);
            var expected = JsonNode.Parse(File.ReadAllText(output))!.AsObject();

            var samples = pairs.Select(p => SimilarityMetrics.Score(p.Item1, p.Item2)).ToList();
            for (var i = 0; i < samples.Count; i++)
            {
                var e = expected["samples"]![i]!;
                var why = $"pair {i}: '{pairs[i].Item1}' vs '{pairs[i].Item2}'";
                Assert.True((double)e["bleu-4"]! == samples[i].Bleu4, $"{why}: bleu-4 {samples[i].Bleu4} vs {e["bleu-4"]}");
                Assert.True((double)e["rouge-1"]! == samples[i].Rouge1, $"{why}: rouge-1 {samples[i].Rouge1} vs {e["rouge-1"]}");
                Assert.True((double)e["rouge-2"]! == samples[i].Rouge2, $"{why}: rouge-2 {samples[i].Rouge2} vs {e["rouge-2"]}");
                Assert.True((double)e["rouge-l"]! == samples[i].RougeL, $"{why}: rouge-l {samples[i].RougeL} vs {e["rouge-l"]}");
            }
            var mean = SimilarityMetrics.Mean(samples);
            Assert.Equal((double)expected["mean"]!["bleu-4"]!, mean.Bleu4, 9);
            Assert.Equal((double)expected["mean"]!["rouge-1"]!, mean.Rouge1, 9);
            Assert.Equal((double)expected["mean"]!["rouge-2"]!, mean.Rouge2, 9);
            Assert.Equal((double)expected["mean"]!["rouge-l"]!, mean.RougeL, 9);
            // Not all zero and not all perfect: the pairs exercise the metrics.
            Assert.Contains(samples, s => s.Bleu4 is > 0 and < 100);
            Assert.Contains(samples, s => s.Rouge2 is > 0 and < 100);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
