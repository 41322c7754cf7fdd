using System.Runtime.InteropServices;

namespace FineTuneAgent.Torch.Interop;

/// <summary>Exports of native/src/fused.cpp and native/src/attention.cpp.</summary>
internal static partial class FusedInterop
{
    private const string Lib = NativeLibraryLoader.LibraryName;

    [LibraryImport(Lib)] internal static partial int fta_fused_rms_norm(TensorHandle x, TensorHandle weight, double eps, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_fused_swiglu(TensorHandle gate, TensorHandle up, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_fused_rotary(TensorHandle x, TensorHandle cos, TensorHandle sin, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_fused_cross_entropy_with_grad(TensorHandle logits, TensorHandle targets, double scale, long ignoreIndex, int gradTo, out IntPtr loss, out IntPtr grad);
    [LibraryImport(Lib)] internal static partial int fta_fused_masked_softmax(TensorHandle scores, TensorHandle allowed, double scale, int outDtype, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_fused_attention(TensorHandle q, TensorHandle k, TensorHandle v, TensorHandle allowed, double scale, out IntPtr result);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial int fta_profiler_start(string path, out IntPtr handle);
    [LibraryImport(Lib)] internal static partial int fta_profiler_stop(IntPtr handle);
}
