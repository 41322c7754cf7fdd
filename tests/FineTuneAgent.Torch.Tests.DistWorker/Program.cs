// Rank 1 of the two-process torch.distributed tests (FineTuneAgent.Torch.Tests/Distributed).
//
//   dotnet FineTuneAgent.Torch.Tests.DistWorker.dll <scenario> <store port> [group timeout ms]
//
// Connects to the test's TCPStore on 127.0.0.1:<port>, announces itself under "ready/1", joins
// the Gloo group "test" as rank 1 of 2, runs the scenario and prints each result as
// `name=v0 v1 ...`, then `done`. Exit codes: 0 done, 2 a TorchException (printed on stderr),
// 3 the "peer_lost" scenario's deliberate exit, 64 bad arguments.
using System.Globalization;
using FineTuneAgent.Torch;
using FineTuneAgent.Torch.Tests.DistWorker;
using static FineTuneAgent.Torch.torch.distributed;

if (args.Length < 2 || !int.TryParse(args[1], out var port))
{
    Console.Error.WriteLine("usage: FineTuneAgent.Torch.Tests.DistWorker <scenario> <store port> [group timeout ms]");
    return 64;
}
var scenario = args[0];
var groupTimeout = TimeSpan.FromMilliseconds(args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 30_000);

try
{
    using var store = new TCPStore("127.0.0.1", port, world_size: 2, is_master: false, timeout: TimeSpan.FromSeconds(60), wait_for_workers: false);
    store.set("ready/1", "1");
    using var pg = new_group_gloo(store, rank: 1, world_size: 2, timeout: groupTimeout, group_name: "test");
    Console.WriteLine($"joined rank={pg.rank()} size={pg.size()} backend={pg.backend}");
    Console.Out.Flush();
    switch (scenario)
    {
        case "silent_peer":
            // In the group but never joining a collective: rank 0's must time out, not hang.
            Thread.Sleep(TimeSpan.FromSeconds(60));
            break;
        case "peer_lost":
            // Gone without leaving the group, as a crashed or killed worker: the OS closes its sockets.
            Environment.Exit(3);
            break;
        default:
            foreach (var (name, values) in DistScenarios.Run(scenario, pg))
                Console.WriteLine($"{name}={string.Join(' ', values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}");
            break;
    }
    Console.WriteLine("done");
    return 0;
}
catch (TorchException e)
{
    Console.Error.WriteLine($"{e.GetType().Name}: {e.Message}");
    return 2;
}
