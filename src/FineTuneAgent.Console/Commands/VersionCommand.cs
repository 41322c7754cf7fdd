using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;
using FineTuneAgent.Torch;

namespace FineTuneAgent.Console.Commands;

/// <summary>
/// `fta version`: the .NET, libtorch and shim versions, the thread count and the devices
/// libtorch sees. Loading the native library here is the proof that the install works.
/// </summary>
public static class VersionCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text." };
        var command = new Command("version", "Print the .NET, libtorch and native shim versions and the devices libtorch sees.") { json };
        command.SetAction(parse => Run(parse.GetValue(json)));
        return command;
    }

    private static int Run(bool json)
    {
        var info = VersionInfo.Collect();
        if (json)
        {
            System.Console.WriteLine(JsonSerializer.Serialize(info, new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        System.Console.WriteLine($"fta            {info.Fta}");
        System.Console.WriteLine($".NET           {info.DotNet} ({info.Runtime})");
        System.Console.WriteLine($"libtorch       {info.Libtorch}");
        System.Console.WriteLine($"native shim    libfta_torch.so ABI {info.ShimAbi} (gloo: {Yes(info.Gloo)}, nccl: {Yes(info.Nccl)}, cuda build: {Yes(info.CudaBuild)})");
        System.Console.WriteLine($"threads        {info.Threads} of {Environment.ProcessorCount} cores");
        System.Console.WriteLine($"devices        {string.Join(", ", info.Devices)}");
        return 0;
    }

    private static string Yes(bool b) => b ? "yes" : "no";

    public sealed record VersionInfo(string Fta, string DotNet, string Runtime, string Libtorch, int ShimAbi, bool Gloo, bool Nccl, bool CudaBuild,
        int Threads, IReadOnlyList<string> Devices)
    {
        public static VersionInfo Collect()
        {
            var devices = new List<string> { "cpu" };
            var cudaCount = torch.cuda.device_count();
            for (var i = 0; i < cudaCount; i++)
            {
                var (name, major, minor) = torch.cuda.get_device_properties(i);
                var (free, total) = torch.cuda.mem_get_info(i);
                devices.Add($"cuda:{i} {name} (compute {major}.{minor}, {free / (1 << 20)} MiB free of {total / (1 << 20)} MiB)");
            }
            var features = torch.BuildFeatures();
            return new VersionInfo(
                typeof(VersionCommand).Assembly.GetName().Version?.ToString() ?? "0.0.0",
                Environment.Version.ToString(),
                RuntimeInformation.FrameworkDescription,
                torch.__version__,
                features.AbiVersion,
                features.Gloo,
                features.Nccl,
                features.Cuda,
                torch.get_num_threads(),
                devices);
        }
    }
}
