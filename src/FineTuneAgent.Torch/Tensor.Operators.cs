namespace FineTuneAgent.Torch;

public static partial class torch
{
    public partial class Tensor
    {
        public static Tensor operator +(Tensor a, Tensor b) => a.add(b);
        public static Tensor operator +(Tensor a, Scalar b) => a.add(b);
        public static Tensor operator +(Scalar a, Tensor b) => b.add(a);
        public static Tensor operator -(Tensor a, Tensor b) => a.sub(b);
        public static Tensor operator -(Tensor a, Scalar b) => a.sub(b);
        public static Tensor operator -(Scalar a, Tensor b) => Result(Interop.TensorInterop.fta_tensor_rsub_scalar(b.NativeHandle, a, out var r), r);
        public static Tensor operator *(Tensor a, Tensor b) => a.mul(b);
        public static Tensor operator *(Tensor a, Scalar b) => a.mul(b);
        public static Tensor operator *(Scalar a, Tensor b) => b.mul(a);
        public static Tensor operator /(Tensor a, Tensor b) => a.div(b);
        public static Tensor operator /(Tensor a, Scalar b) => a.div(b);
        public static Tensor operator /(Scalar a, Tensor b) => Result(Interop.TensorInterop.fta_tensor_rdiv_scalar(b.NativeHandle, a, out var r), r);
        public static Tensor operator %(Tensor a, Tensor b) => a.remainder(b);
        public static Tensor operator %(Tensor a, Scalar b) => a.remainder(b);
        public static Tensor operator -(Tensor a) => a.neg();
        public static Tensor operator &(Tensor a, Tensor b) => a.bitwise_and(b);
        public static Tensor operator &(Tensor a, Scalar b) => a.bitwise_and(b);
        public static Tensor operator |(Tensor a, Tensor b) => a.bitwise_or(b);
        public static Tensor operator |(Tensor a, Scalar b) => a.bitwise_or(b);
        public static Tensor operator ^(Tensor a, Tensor b) => a.bitwise_xor(b);
        public static Tensor operator ~(Tensor a) => a.bitwise_not();
        public static Tensor operator <<(Tensor a, int b) => a.bitwise_left_shift(b);
        public static Tensor operator >>(Tensor a, int b) => a.bitwise_right_shift(b);
    }
}
