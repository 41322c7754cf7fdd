namespace FineTuneAgent.Modeling.Quantization;

/// <summary>
/// The NF4 data type of QLoRA (Dettmers et al. 2023): 16 values, quantiles of N(0, 1) scaled to
/// [-1, 1] with an exact zero, as bitsandbytes' <c>get_4bit_type("nf4")</c>. The index of a
/// value is its 4-bit code; the table is sorted, so code order is value order.
/// </summary>
public static class NormalFloat4
{
    private static readonly float[] s_values =
    [
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
        0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
    ];

    private static readonly int[] s_blocksizes = [32, 64, 128, 256, 512, 1024, 2048, 4096];

    /// <summary>The 16 code values, index = code.</summary>
    public static IReadOnlyList<float> Values => s_values;

    /// <summary>QLoRA's block size: one absmax per 64 weights.</summary>
    public const int DefaultBlocksize = 64;

    /// <summary>The block size of the nested (double) quantization of the absmax values.</summary>
    public const int NestedBlocksize = 256;

    /// <summary>Block sizes bitsandbytes accepts: powers of two from 32 to 4096.</summary>
    public static IReadOnlyList<int> Blocksizes => s_blocksizes;

    internal static void CheckBlocksize(int blocksize, string paramName)
    {
        if (Array.IndexOf(s_blocksizes, blocksize) < 0)
            throw new ArgumentOutOfRangeException(paramName, blocksize, $"{paramName} must be one of {string.Join(", ", s_blocksizes)}");
    }
}
