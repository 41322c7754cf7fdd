using FineTuneAgent.Torch.Interop;

namespace FineTuneAgent.Torch;

public static partial class torch
{
    /// <summary>Custom operator namespaces, as PyTorch's <c>torch.ops</c>.</summary>
    public static partial class ops
    {
        /// <summary>
        /// The quantization ops bitsandbytes registers as <c>torch.ops.bitsandbytes</c> (same names
        /// and argument order), implemented in the shim (native/src/quant.cpp): NF4 4-bit blockwise,
        /// 8-bit blockwise under a 256-entry code, and row-wise int8; plus linear layers over
        /// quantized weights whose autograd node keeps only the quantized tensors. Only the "nf4"
        /// 4-bit type exists here. Results are bit-identical on every device: CPU runs raw loops,
        /// other devices ATen ops.
        /// </summary>
        public static unsafe class bitsandbytes
        {
            /// <summary>
            /// Double quantization of an NF4 weight's absmax: absmax holds uint8 codes of
            /// (absmax − offset) under <paramref name="code"/>, one float32 scale per
            /// <paramref name="blocksize"/> codes in <paramref name="absmax"/>. Does not own the tensors.
            /// </summary>
            public sealed record NestedQuantState(Tensor absmax, Tensor code, Tensor offset, long blocksize = 256);

            /// <summary>
            /// Flattens A (float32/bfloat16/float16) row-major, cuts it into blocks of blocksize
            /// (32…4096, a power of two; the last block may be partial) and returns the NF4 codes
            /// packed two per byte, first element in the high nibble (uint8, shape [(n+1)/2, 1]),
            /// and each block's absmax (float32).
            /// </summary>
            public static (Tensor packed, Tensor absmax) quantize_4bit(Tensor A, long blocksize = 64, string quant_type = "nf4")
            {
                CheckQuantType(quant_type);
                Status.Check(QuantInterop.fta_quant_nf4_quantize(A.NativeHandle, blocksize, out var packed, out var absmax));
                return (new Tensor(packed), new Tensor(absmax));
            }

            /// <summary>
            /// The weight of <paramref name="shape"/> in <paramref name="dtype"/> from packed NF4 codes
            /// and float32 absmax, or, with <paramref name="nested"/>, from uint8 absmax codes.
            /// </summary>
            public static Tensor dequantize_4bit(Tensor A, Tensor absmax, long blocksize, string quant_type, long[] shape, ScalarType dtype,
                NestedQuantState? nested = null)
            {
                CheckQuantType(quant_type);
                ArgumentNullException.ThrowIfNull(shape);
                fixed (long* s = shape)
                {
                    return Tensor.Result(QuantInterop.fta_quant_nf4_dequantize(A.NativeHandle, absmax.NativeHandle, Handle(nested?.absmax),
                        Handle(nested?.code), Handle(nested?.offset), blocksize, nested?.blocksize ?? 256, s, shape.Length, (int)dtype, out var r), r);
                }
            }

            /// <summary>
            /// 8-bit blockwise quantization: per block absmax (float32) and, per element, the index of
            /// the nearest entry of the sorted 256-entry float32 code (uint8, A's shape).
            /// </summary>
            public static (Tensor q, Tensor absmax) quantize_blockwise(Tensor A, Tensor code, long blocksize)
            {
                Status.Check(QuantInterop.fta_quant_blockwise_quantize(A.NativeHandle, code.NativeHandle, blocksize, out var q, out var absmax));
                return (new Tensor(q), new Tensor(absmax));
            }

            /// <summary>code[A] * absmax[block], computed in float32 and cast to dtype.</summary>
            public static Tensor dequantize_blockwise(Tensor A, Tensor absmax, Tensor code, long blocksize, ScalarType dtype = ScalarType.Float32) =>
                Tensor.Result(QuantInterop.fta_quant_blockwise_dequantize(A.NativeHandle, absmax.NativeHandle, code.NativeHandle, blocksize, (int)dtype, out var r), r);

            /// <summary>
            /// Row-wise absmax int8 (LLM.int8 without the outlier path, threshold 0): row_stats =
            /// max |row| (float32), q = round(A · (127 / row_stats)) as int8. A row of zeros gives 0.
            /// </summary>
            public static (Tensor q, Tensor row_stats) int8_vectorwise_quant(Tensor A)
            {
                Status.Check(QuantInterop.fta_quant_int8_quantize(A.NativeHandle, out var q, out var stats));
                return (new Tensor(q), new Tensor(stats));
            }

            /// <summary>A · stats · (1/127), computed in float32 and cast to dtype.</summary>
            public static Tensor int8_vectorwise_dequant(Tensor A, Tensor stats, ScalarType dtype = ScalarType.Float32) =>
                Tensor.Result(QuantInterop.fta_quant_int8_dequantize(A.NativeHandle, stats.NativeHandle, (int)dtype, out var r), r);

            /// <summary>
            /// y = input Wᵀ + bias with W (out_features, in_features) dequantized from NF4 into
            /// input's dtype for the call only. Differentiable in input (and bias); the quantized
            /// tensors get no gradient and are all the autograd node keeps.
            /// </summary>
            public static Tensor linear_4bit(Tensor input, Tensor A, Tensor absmax, long blocksize, long out_features, long in_features,
                Tensor? bias = null, NestedQuantState? nested = null, string quant_type = "nf4")
            {
                CheckQuantType(quant_type);
                return Tensor.Result(QuantInterop.fta_quant_nf4_linear(input.NativeHandle, A.NativeHandle, absmax.NativeHandle, Handle(nested?.absmax),
                    Handle(nested?.code), Handle(nested?.offset), Handle(bias), blocksize, nested?.blocksize ?? 256, out_features, in_features, out var r), r);
            }

            /// <summary>y = input Wᵀ + bias with W = int8_vectorwise_dequant(CB, SCB) in input's dtype; as linear_4bit.</summary>
            public static Tensor linear_int8(Tensor input, Tensor CB, Tensor SCB, Tensor? bias = null) =>
                Tensor.Result(QuantInterop.fta_quant_int8_linear(input.NativeHandle, CB.NativeHandle, SCB.NativeHandle, Handle(bias), out var r), r);

            /// <summary>Test hook: while the returned scope lives, this thread's ops take the device-agnostic ATen path on CPU.</summary>
            internal static IDisposable UsePortableKernels()
            {
                Status.Check(QuantInterop.fta_quant_set_portable(1));
                return new PortableScope();
            }

            /// <summary>Test hook: the tensors the autograd node of a linear_4bit / linear_int8 output saved.</summary>
            internal static Tensor[] SavedTensors(Tensor output)
            {
                var handles = new IntPtr[8];
                fixed (IntPtr* p = handles)
                    Status.Check(QuantInterop.fta_quant_saved_tensors(output.NativeHandle, p, handles.Length, out var count));
                return handles.Where(h => h != IntPtr.Zero).Select(h => new Tensor(h)).ToArray();
            }

            private static TensorHandle Handle(Tensor? t) => t?.NativeHandle ?? TensorHandle.Null;

            private static void CheckQuantType(string quant_type)
            {
                if (quant_type != "nf4")
                    throw new TorchNotSupportedException($"quant_type '{quant_type}' is not supported: only 'nf4'");
            }

            private sealed class PortableScope : IDisposable
            {
                public void Dispose() => Status.Check(QuantInterop.fta_quant_set_portable(0));
            }
        }
    }
}
