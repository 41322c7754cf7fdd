using System.CommandLine;
using System.Globalization;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Training;
using FineTuneAgent.Torch;

namespace FineTuneAgent.Console.Commands;

/// <summary>
/// `fta worker --store HOST:PORT --rank R --world N --run-config FILE`: one worker of a data-parallel run
/// (<see cref="DataParallelWorker"/>), started once per rank by whoever spreads the run (the agent, a test, a
/// person with a terminal per machine). Hidden from help: it is plumbing, not a way to start a run.
/// Exit codes: 0 trained; 1 a bad option or input (one line on stderr); 3 the process group failed (a peer was
/// lost or silent past --timeout): restart every worker with --resume to continue from the last checkpoint;
/// 130 cancelled.
/// </summary>
public static class WorkerCommand
{
    public const int GroupFailedExitCode = 3;

    public static Command Create()
    {
        var store = new Option<string>("--store") { Description = "The c10d TCPStore as HOST:PORT (rank 0 serves it unless --external-store).", Required = true };
        var rank = new Option<int>("--rank") { Description = "This worker's rank, 0 ≤ R < N; rank 0 writes checkpoints, the adapter and events.", Required = true };
        var world = new Option<int>("--world") { Description = "The number of workers (1: train alone, no store or group).", Required = true };
        var runConfig = new Option<string>("--run-config") { Description = "The run's configuration: a run_config.json (TrainRequest JSON).", Required = true };
        var resume = new Option<string?>("--resume") { Description = "A checkpoint folder, or an output folder whose last checkpoint to continue (the same on every worker)." };
        var timeout = new Option<double>("--timeout") { Description = "Seconds a worker waits for its peers: to join, for rank 0's preparation, in each collective.", DefaultValueFactory = _ => 1800 };
        var bucket = new Option<int>("--bucket-mb") { Description = "Gradient bucket size in MiB (DDP's bucket_cap_mb).", DefaultValueFactory = _ => DataParallel.DefaultBucketCapMegabytes };
        var listen = new Option<string>("--listen") { Description = "The address this worker's Gloo endpoint listens on; peers must reach it.", DefaultValueFactory = _ => "127.0.0.1" };
        var iface = new Option<string?>("--interface") { Description = "Listen on this network interface instead (as GLOO_SOCKET_IFNAME)." };
        var external = new Option<bool>("--external-store") { Description = "Connect to a store that a coordinator serves, on every rank." };
        var runsDir = new Option<string?>("--runs-dir") { Description = "Where rank 0 records the run, and where the built-in model and caches live (default: FTA_RUNS_DIR or ~/.local/share/fta/runs)." };
        var json = new Option<bool>("--json") { Description = "One JSON object per event line, then a summary object." };
        var device = new Option<string>("--device")
        {
            Description = "auto (the run's device option, with cuda:<local rank> on a CUDA host), cpu, cuda or cuda:N. CUDA workers form an NCCL group, CPU ones Gloo.",
            DefaultValueFactory = _ => TrainingDevice.Auto,
        };
        var localRank = new Option<int>("--local-rank") { Description = "This worker's index among the workers on its host (torchrun's LOCAL_RANK): its CUDA device under auto.", DefaultValueFactory = _ => 0 };
        var command = new Command("worker", "One worker of a data-parallel run (started by the agent).")
        {
            store, rank, world, runConfig, resume, timeout, bucket, listen, iface, external, runsDir, json, device, localRank,
        };
        command.Hidden = true;
        command.SetAction(parse =>
        {
            var (host, port) = HostAndPort(parse.GetValue(store)!);
            var r = parse.GetValue(rank);
            var options = new DataParallelWorkerOptions
            {
                StoreHost = host,
                StorePort = port,
                Rank = r,
                WorldSize = parse.GetValue(world),
                RunConfig = Path.GetFullPath(parse.GetValue(runConfig)!),
                Resume = parse.GetValue(resume),
                Timeout = TimeSpan.FromSeconds(parse.GetValue(timeout) is var s && s > 0 ? s : throw new ArgumentException($"--timeout must be above 0 seconds, got {s}")),
                BucketCapMegabytes = parse.GetValue(bucket) is var b && b >= 1 ? b : throw new ArgumentException($"--bucket-mb must be at least 1, got {b}"),
                ListenAddress = parse.GetValue(listen)!,
                Interface = parse.GetValue(iface),
                HostStore = parse.GetValue(external) ? false : null,
                Device = parse.GetValue(device) is var d && TrainingDevice.IsWellFormed(d) ? d! : throw new ArgumentException($"--device must be auto, cpu, cuda or cuda:N, got '{d}'"),
                LocalRank = parse.GetValue(localRank) is var lr && lr >= 0 ? lr : throw new ArgumentException($"--local-rank must be 0 or more, got {lr}"),
            };
            var runs = new RunStore(parse.GetValue(runsDir) ?? RunStore.DefaultFolder);
            using var plugins = PluginHost.Load();
            var job = new TrainingJob(runs, plugins);
            var view = TrainView.Create(parse.GetValue(json));
            using var cts = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                e.Cancel = true;
                cts.Cancel();
            };
            System.Console.CancelKeyPress += onCancel;
            try
            {
                var summary = view.Run(progress => DataParallelWorker.Run(job, options, progress, cts.Token));
                view.Finish(summary);
                return 0;
            }
            catch (TorchDistributedException e)
            {
                System.Console.Error.WriteLine($"fta: worker rank {r}: the process group failed: {e.Message}");
                System.Console.Error.WriteLine("fta: restart every worker with --resume <output folder> to continue from the last checkpoint.");
                return GroupFailedExitCode;
            }
            catch (OperationCanceledException cancelled)
            {
                System.Console.Error.WriteLine($"fta: worker rank {r}: {cancelled.Message}");
                return 130;
            }
            finally
            {
                System.Console.CancelKeyPress -= onCancel;
            }
        });
        return command;
    }

    private static (string Host, int Port) HostAndPort(string value)
    {
        var colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            throw new ArgumentException($"--store must be HOST:PORT with a port in 1..65535, got '{value}'");
        return (value[..colon].Trim('[', ']'), port);
    }
}
