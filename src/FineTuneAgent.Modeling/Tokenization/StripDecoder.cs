namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>The <c>Strip</c> decoder: removes up to <c>start</c> leading and <c>stop</c> trailing
/// occurrences of a character from each token (Llama 2 strips the space a leading '▁' became).</summary>
internal sealed class StripDecoder(string content, int start, int stop) : IDecoder
{
    public List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        foreach (var token in tokens)
        {
            // Counted in code points, as Rust's chars().
            var runes = token.EnumerateRunes().ToArray();
            var startCut = 0;
            for (var i = 0; i < start && i < runes.Length && runes[i].ToString() == content; i++)
            {
                startCut = i + 1;
            }
            var stopCut = runes.Length;
            for (var i = 0; i < Math.Min(stop, runes.Length - startCut) && runes[runes.Length - i - 1].ToString() == content; i++)
            {
                stopCut = runes.Length - i - 1;
            }
            result.Add(string.Concat(runes[startCut..stopCut].Select(r => r.ToString())));
        }
        return result;
    }
}
