using System.Runtime.InteropServices;

namespace FineTuneAgent.Torch.Interop;

/// <summary>Exports of native/src/tensor_nn.cpp (functional layers), autograd.cpp and optim.cpp.</summary>
internal static unsafe partial class NNInterop
{
    private const string Lib = NativeLibraryLoader.LibraryName;

    [LibraryImport(Lib)] internal static partial int fta_nn_linear(TensorHandle input, TensorHandle weight, TensorHandle bias, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_nn_softmax(TensorHandle input, long dim, int dtype, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_nn_log_softmax(TensorHandle input, long dim, int dtype, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_nn_dropout(TensorHandle input, double p, int training, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_nn_embedding(TensorHandle weight, TensorHandle indices, long paddingIdx, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_nn_cross_entropy(TensorHandle input, TensorHandle target, TensorHandle weight, int reduction, long ignoreIndex, double labelSmoothing, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_nn_nll_loss(TensorHandle input, TensorHandle target, TensorHandle weight, int reduction, long ignoreIndex, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_nn_mse_loss(TensorHandle input, TensorHandle target, int reduction, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_nn_layer_norm(TensorHandle input, long* shape, long ndim, TensorHandle weight, TensorHandle bias, double eps, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_nn_clip_grad_norm(IntPtr* parameters, long n, double maxNorm, double normType, out double totalNorm);
}

internal static unsafe partial class AutogradInterop
{
    private const string Lib = NativeLibraryLoader.LibraryName;

    [LibraryImport(Lib)] internal static partial int fta_tensor_requires_grad(TensorHandle t, out int requiresGrad);
    [LibraryImport(Lib)] internal static partial int fta_tensor_set_requires_grad(TensorHandle t, int requiresGrad);
    [LibraryImport(Lib)] internal static partial int fta_tensor_is_leaf(TensorHandle t, out int isLeaf);
    [LibraryImport(Lib)] internal static partial int fta_tensor_grad(TensorHandle t, out IntPtr grad);
    [LibraryImport(Lib)] internal static partial int fta_tensor_set_grad(TensorHandle t, TensorHandle grad);
    [LibraryImport(Lib)] internal static partial int fta_tensor_retain_grad(TensorHandle t);
    [LibraryImport(Lib)] internal static partial int fta_tensor_backward(TensorHandle t, TensorHandle gradient, int retainGraph, int createGraph);
    [LibraryImport(Lib)] internal static partial int fta_autograd_grad(IntPtr* outputs, long nOutputs, IntPtr* inputs, long nInputs, IntPtr* gradOutputs, long nGradOutputs, int retainGraph, int createGraph, int allowUnused, IntPtr* results);
}

internal static unsafe partial class OptimInterop
{
    private const string Lib = NativeLibraryLoader.LibraryName;

    [LibraryImport(Lib)]
    internal static partial int fta_optim_adamw_step(IntPtr* parameters, IntPtr* grads, IntPtr* expAvgs, IntPtr* expAvgSqs, IntPtr* maxExpAvgSqs, long* steps,
        long n, double lr, double beta1, double beta2, double eps, double weightDecay, int amsgrad, int maximize, int fused);

    [LibraryImport(Lib)]
    internal static partial int fta_optim_sgd_step(IntPtr* parameters, IntPtr* grads, IntPtr* momentumBuffers, long n, double lr, double momentum,
        double dampening, double weightDecay, int nesterov, int maximize, IntPtr* newBuffers);
}
