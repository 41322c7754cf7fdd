using System.Text;

namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>
/// The <c>ByteLevel</c> decoder: maps each token's characters back to bytes (a token with a
/// character outside the alphabet contributes its own UTF-8 instead) and decodes all the bytes as
/// UTF-8, invalid sequences becoming U+FFFD (Rust's <c>from_utf8_lossy</c>).
/// </summary>
internal sealed class ByteLevelDecoder : IDecoder
{
    public List<string> DecodeChain(List<string> tokens)
    {
        var bytes = new List<byte>(tokens.Count * 4);
        foreach (var token in tokens)
        {
            if (!AppendBytes(token, bytes))
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(token));
            }
        }
        return [Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes))];
    }

    private static bool AppendBytes(string token, List<byte> bytes)
    {
        var start = bytes.Count;
        foreach (var c in token)
        {
            var b = ByteLevelAlphabet.CharToByte(c);
            if (b < 0)
            {
                bytes.RemoveRange(start, bytes.Count - start);
                return false;
            }
            bytes.Add((byte)b);
        }
        return true;
    }
}
