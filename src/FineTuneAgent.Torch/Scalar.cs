using System.Runtime.InteropServices;

namespace FineTuneAgent.Torch;

/// <summary>
/// A number passed to an op (alpha, a fill value, a clamp bound). Kept as integer or floating
/// so that integer tensors stay integer (`x + 1` on int64 stays int64, as in PyTorch). Its
/// layout is the shim's fta_scalar.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct Scalar
{
    private readonly double _f;
    private readonly long _i;
    private readonly int _kind;
    private readonly int _reserved;

    private Scalar(double f, long i, int kind)
    {
        _f = f;
        _i = i;
        _kind = kind;
        _reserved = 0;
    }

    public bool IsFloatingPoint => _kind == 0;
    public bool IsIntegral => _kind == 1;
    public bool IsBoolean => _kind == 2;

    public double ToDouble() => _kind == 0 ? _f : _i;
    public long ToInt64() => _kind == 0 ? (long)_f : _i;

    public static implicit operator Scalar(double value) => new(value, 0, 0);
    public static implicit operator Scalar(float value) => new(value, 0, 0);
    public static implicit operator Scalar(Half value) => new((double)value, 0, 0);
    public static implicit operator Scalar(long value) => new(0, value, 1);
    public static implicit operator Scalar(int value) => new(0, value, 1);
    public static implicit operator Scalar(byte value) => new(0, value, 1);
    public static implicit operator Scalar(bool value) => new(0, value ? 1 : 0, 2);

    public override string ToString() => _kind switch
    {
        0 => _f.ToString(System.Globalization.CultureInfo.InvariantCulture),
        1 => _i.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => _i != 0 ? "True" : "False",
    };
}
