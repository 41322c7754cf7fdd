using System.Reflection;
using System.Runtime.InteropServices;

namespace FineTuneAgent.Torch.Interop;

/// <summary>
/// Finds libfta_torch.so, loads it once, and checks that its ABI version is the one this
/// assembly was written against. A failed load says every place it looked.
/// </summary>
internal static class NativeLibraryLoader
{
    internal const string LibraryName = "fta_torch";
    internal const int ExpectedAbiVersion = 7;

    private static readonly Lock Gate = new();
    private static IntPtr _handle;

    // The resolver must be in place before this assembly's first P/Invoke, whichever type makes it.
#pragma warning disable CA2255
    [System.Runtime.CompilerServices.ModuleInitializer]
#pragma warning restore CA2255
    internal static void RegisterResolver()
    {
        NativeLibrary.SetDllImportResolver(typeof(NativeLibraryLoader).Assembly, Resolve);
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName != LibraryName)
            return IntPtr.Zero;
        lock (Gate)
        {
            if (_handle != IntPtr.Zero)
                return _handle;
            _handle = Load();
            return _handle;
        }
    }

    internal static IEnumerable<string> CandidatePaths()
    {
        var fromEnv = Environment.GetEnvironmentVariable("FTA_TORCH_NATIVE");
        if (!string.IsNullOrEmpty(fromEnv))
            yield return fromEnv;
        yield return Path.Combine(AppContext.BaseDirectory, "libfta_torch.so");
        var assemblyDir = Path.GetDirectoryName(typeof(NativeLibraryLoader).Assembly.Location);
        if (!string.IsNullOrEmpty(assemblyDir))
            yield return Path.Combine(assemblyDir, "libfta_torch.so");
    }

    private static IntPtr Load()
    {
        var tried = new List<string>();
        foreach (var path in CandidatePaths().Distinct())
        {
            if (!File.Exists(path))
            {
                tried.Add($"{path} (not found)");
                continue;
            }
            IntPtr handle;
            try
            {
                handle = NativeLibrary.Load(path);
            }
            catch (DllNotFoundException e)
            {
                tried.Add($"{path} ({e.Message})");
                continue;
            }
            Initialize(handle, path);
            return handle;
        }
        throw new DllNotFoundException(
            "Could not load libfta_torch.so, the native shim over libtorch. Looked in:\n  " +
            string.Join("\n  ", tried) +
            "\nBuild it with `dotnet build` (needs cmake, g++ and libtorch: run scripts/setup.sh), " +
            "or set FTA_TORCH_NATIVE to its path.");
    }

    /// <summary>
    /// Runs once, right after the load and before any other export is called: refuses a shim
    /// built for another version of this binding, then sets libtorch's thread count (its
    /// default here is 1) to FTA_NUM_THREADS or every core. Calls go through function pointers
    /// because the import resolver is still running.
    /// </summary>
    private static unsafe void Initialize(IntPtr handle, string path)
    {
        var abi = (delegate* unmanaged<int*, int>)NativeLibrary.GetExport(handle, "fta_runtime_abi_version");
        int version;
        if (abi(&version) != Status.Ok || version != ExpectedAbiVersion)
            throw new TorchException(
                $"{path} has ABI version {version}, but FineTuneAgent.Torch expects {ExpectedAbiVersion}: " +
                "rebuild the native shim (`dotnet build`) so both come from the same sources.");
        var threads = Environment.ProcessorCount;
        if (int.TryParse(Environment.GetEnvironmentVariable("FTA_NUM_THREADS"), out var configured) && configured > 0)
            threads = configured;
        var setThreads = (delegate* unmanaged<int, int>)NativeLibrary.GetExport(handle, "fta_runtime_set_num_threads");
        setThreads(threads);
    }
}
