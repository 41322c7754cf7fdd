using System.Runtime.InteropServices;

namespace FineTuneAgent.Torch.Interop;

/// <summary>Exports of native/src/quant.cpp (bitsandbytes-style quantization).</summary>
internal static unsafe partial class QuantInterop
{
    private const string Lib = NativeLibraryLoader.LibraryName;

    [LibraryImport(Lib)] internal static partial int fta_quant_nf4_quantize(TensorHandle input, long blocksize, out IntPtr packed, out IntPtr absmax);

    [LibraryImport(Lib)]
    internal static partial int fta_quant_nf4_dequantize(TensorHandle packed, TensorHandle absmax, TensorHandle nestedAbsmax, TensorHandle nestedCode,
        TensorHandle nestedOffset, long blocksize, long nestedBlocksize, long* shape, long ndim, int dtype, out IntPtr result);

    [LibraryImport(Lib)] internal static partial int fta_quant_blockwise_quantize(TensorHandle input, TensorHandle code, long blocksize, out IntPtr q, out IntPtr absmax);
    [LibraryImport(Lib)] internal static partial int fta_quant_blockwise_dequantize(TensorHandle q, TensorHandle absmax, TensorHandle code, long blocksize, int dtype, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_quant_int8_quantize(TensorHandle input, out IntPtr q, out IntPtr rowStats);
    [LibraryImport(Lib)] internal static partial int fta_quant_int8_dequantize(TensorHandle q, TensorHandle rowStats, int dtype, out IntPtr result);

    [LibraryImport(Lib)]
    internal static partial int fta_quant_nf4_linear(TensorHandle input, TensorHandle packed, TensorHandle absmax, TensorHandle nestedAbsmax, TensorHandle nestedCode,
        TensorHandle nestedOffset, TensorHandle bias, long blocksize, long nestedBlocksize, long outFeatures, long inFeatures, out IntPtr result);

    [LibraryImport(Lib)] internal static partial int fta_quant_int8_linear(TensorHandle input, TensorHandle q, TensorHandle rowStats, TensorHandle bias, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_quant_set_portable(int enabled);
    [LibraryImport(Lib)] internal static partial int fta_quant_saved_tensors(TensorHandle output, IntPtr* result, long capacity, out long count);
}
