using System.Text;

namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>The <c>Metaspace</c> decoder: the replacement character becomes a space, except in the
/// first token (unless the prepend scheme is "never"), where it is dropped, as in HF tokenizers.</summary>
internal sealed class MetaspaceDecoder(char replacement, PrependScheme prependScheme) : IDecoder
{
    public List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        for (var i = 0; i < tokens.Count; i++)
        {
            var sb = new StringBuilder(tokens[i].Length);
            foreach (var c in tokens[i])
            {
                if (c != replacement)
                {
                    sb.Append(c);
                }
                else if (i != 0 || prependScheme == PrependScheme.Never)
                {
                    sb.Append(' ');
                }
            }
            result.Add(sb.ToString());
        }
        return result;
    }
}
