using System.Globalization;
using FineTuneAgent.Modeling.Tokenization;

namespace FineTuneAgent.Modeling.Tests.Tokenization;

/// <summary>Our NFC/NFD against String.prototype.normalize in node (the reference's NFC
/// normalizer) on every code point and on random sequences of marks, starters and jamo.</summary>
[Collection(ReferenceCollection.Name)]
public sealed class UnicodeNormalizationTests(ReferenceFixture fixture)
{
    [Fact]
    public void Nfc_EveryCodePointAndMarkSequence_MatchesReference() =>
        AssertMatches(fixture.NfcReference, UnicodeNormalization.Nfc);

    [Fact]
    public void Nfd_EveryCodePointAndMarkSequence_MatchesReference() =>
        AssertMatches(fixture.NfdReference, UnicodeNormalization.Nfd);

    [Fact]
    public void Nfc_AlreadyNormalizedText_ReturnsSameInstance()
    {
        var text = "Plain ASCII, 中文, 한국어, café (precomposed) and 😀";
        Assert.Same(text, UnicodeNormalization.Nfc(text));
    }

    [Theory]
    [InlineData("e\u0301", "\u00E9")]                 // e + acute
    [InlineData("\u212B", "\u00C5")]                  // Angstrom sign is a singleton
    [InlineData("\u1100\u1161\u11A8", "\uAC01")]      // Hangul L V T
    [InlineData("\u0071\u0307\u0323", "\u0071\u0323\u0307")] // reordered, nothing composes with q
    public void Nfc_KnownCases_FromUax15(string input, string expected) =>
        Assert.Equal(expected, UnicodeNormalization.Nfc(input));

    private void AssertMatches(IReadOnlyList<string> reference, Func<string, string> normalize)
    {
        var failures = new List<string>();
        for (var i = 0; i < fixture.NfcInputs.Count; i++)
        {
            var ours = normalize(fixture.NfcInputs[i]);
            if (ours != reference[i])
            {
                var at = 0;
                while (at < ours.Length && at < reference[i].Length && ours[at] == reference[i][at])
                {
                    at++;
                }
                failures.Add($"input #{i} differs at {at}: ours {Hex(ours, at)} reference {Hex(reference[i], at)}");
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} differ:\n{string.Join('\n', failures.Take(20))}");
    }

    private static string Hex(string s, int at) =>
        string.Join(' ', s.Skip(Math.Max(0, at - 2)).Take(6).Select(c => ((int)c).ToString("X4", CultureInfo.InvariantCulture)));
}
