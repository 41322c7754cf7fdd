using System.Numerics;

namespace FineTuneAgent.Core.Evaluation;

/// <summary>
/// Python's <c>round(x, ndigits)</c> for ndigits ≥ 0: the exact binary value of x rounded to ndigits decimals,
/// ties to even, then the nearest double. LLaMA-Factory rounds every per-sample score this way before averaging.
/// (Math.Round scales by a power of ten in floating point first and can land on the other side of a tie:
/// Python's round(2.675, 2) is 2.67 because the double 2.675 lies just below 2.675.)
/// </summary>
/// <remarks>Exact while |x|·10^digits &lt; 2^53, which covers scores in [0, 100] at 4 digits many times over.</remarks>
public static class PythonRound
{
    public static double Round(double x, int digits)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(digits);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(digits, 15);
        if (!double.IsFinite(x) || x == 0)
            return x;
        var bits = BitConverter.DoubleToInt64Bits(Math.Abs(x));
        var exponent = (int)((bits >> 52) & 0x7FF);
        var mantissa = bits & 0xFFFFFFFFFFFFFL;
        if (exponent == 0)
            exponent = 1; // subnormal
        else
            mantissa |= 1L << 52;
        var power = exponent - 1075; // |x| = mantissa · 2^power exactly
        if (power >= 0)
            return x; // an integer already
        var scale = BigInteger.Pow(10, digits);
        var numerator = new BigInteger(mantissa) * scale;
        var denominator = BigInteger.Pow(2, -power);
        var quotient = BigInteger.DivRem(numerator, denominator, out var remainder);
        var twice = remainder * 2;
        var rounded = twice > denominator || (twice == denominator && !quotient.IsEven) ? quotient + 1 : quotient;
        var magnitude = (double)rounded / (double)scale;
        return x < 0 ? -magnitude : magnitude;
    }
}
