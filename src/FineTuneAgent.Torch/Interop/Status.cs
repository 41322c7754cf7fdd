using System.Runtime.InteropServices;

namespace FineTuneAgent.Torch.Interop;

/// <summary>Status codes of the C ABI (native/include/fta_torch.h) and their exceptions.</summary>
internal static class Status
{
    internal const int Ok = 0;
    internal const int Error = 1;
    internal const int OutOfMemory = 2;
    internal const int ArgumentError = 3;
    internal const int NotSupported = 4;
    internal const int UnknownError = 5;
    internal const int DistributedError = 6;

    /// <summary>
    /// Throws the exception for a failed call. Must run on the thread that made the call, right
    /// after it: the message lives in the shim's thread-local storage.
    /// </summary>
    internal static void Check(int status)
    {
        if (status != Ok)
            Throw(status);
    }

    private static void Throw(int status)
    {
        var message = LastMessage();
        throw status switch
        {
            OutOfMemory => new TorchOutOfMemoryException(message),
            ArgumentError => new TorchArgumentException(message),
            NotSupported => new TorchNotSupportedException(message),
            DistributedError => new TorchDistributedException(message),
            _ => new TorchException(message),
        };
    }

    private static string LastMessage()
    {
        if (RuntimeInterop.fta_error_message(out var ptr) != Ok || ptr == IntPtr.Zero)
            return "libtorch reported an error without a message";
        return Marshal.PtrToStringUTF8(ptr) ?? "";
    }
}
