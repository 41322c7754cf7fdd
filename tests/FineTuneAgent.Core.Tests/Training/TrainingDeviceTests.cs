using System.Text.Json.Nodes;
using FineTuneAgent.Core.Training;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Tests.Training;

/// <summary>The device option: its forms in JSON, what it resolves to for given CUDA facts and on this (CPU-only) machine, and the data-parallel backend it implies.</summary>
public class TrainingDeviceTests
{
    private static readonly CudaFacts NoCuda = new(Built: false, DeviceCount: 0);
    private static readonly CudaFacts CudaBuildNoGpu = new(Built: true, DeviceCount: 0);
    private static readonly CudaFacts TwoGpus = new(Built: true, DeviceCount: 2);

    [Theory]
    [InlineData("auto")]
    [InlineData("cpu")]
    [InlineData("cuda")]
    [InlineData("cuda:0")]
    [InlineData("cuda:7")]
    public void Read_AcceptsEveryForm_AndRoundTrips(string device)
    {
        var options = TrainingOptionsJson.Read(new JsonObject { ["device"] = device });
        Assert.Equal(device, options.Device);
        Assert.Equal(device, (string?)TrainingOptionsJson.Write(options)["device"]);
        Assert.Equal(options, TrainingOptionsJson.Read(TrainingOptionsJson.Write(options)));
    }

    [Fact]
    public void Read_WithoutDevice_IsAuto()
    {
        Assert.Equal("auto", TrainingOptionsJson.Read(new JsonObject()).Device);
        Assert.Equal("auto", new TrainingOptions().Device);
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("CUDA")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:x")]
    [InlineData("cuda:0:1")]
    [InlineData("")]
    public void Read_BadValue_NamesTheField(string device)
    {
        var e = Assert.Throws<TrainingOptionsException>(() => TrainingOptionsJson.Read(new JsonObject { ["device"] = device }));
        Assert.Equal(["device"], e.Fields);
        Assert.Contains($"training option 'device': \"{device}\" is not one of auto, cpu, cuda, cuda:N", e.Message);
    }

    [Fact]
    public void Read_TypoInKey_SuggestsDevice_AndWrongTypeNamesIt()
    {
        var typo = Assert.Throws<TrainingOptionsException>(() => TrainingOptionsJson.Read(new JsonObject { ["devcie"] = "cpu" }));
        Assert.Equal(["devcie"], typo.Fields);
        Assert.Contains("did you mean 'device'", typo.Message);
        var type = Assert.Throws<TrainingOptionsException>(() => TrainingOptionsJson.Read(new JsonObject { ["device"] = 0 }));
        Assert.Equal(["device"], type.Fields);
    }

    [Fact]
    public void TrainRequest_KeepsTheDevice_ThroughItsJson_AndAnOlderRequestWithoutOneIsAuto()
    {
        var request = new TrainRequest { OutputDirectory = "/tmp/out", Options = new TrainingOptions { Device = "cuda:1", MaxSteps = 3 } };
        var json = request.ToJson();
        Assert.Equal("cuda:1", TrainRequest.FromJson(json, "run.json").Options.Device);
        json["training"]!.AsObject().Remove("device");
        Assert.Equal("auto", TrainRequest.FromJson(json, "run.json").Options.Device);
    }

    [Theory]
    [InlineData("auto", 0, 0, "cpu")]
    [InlineData("cpu", 2, 0, "cpu")]
    [InlineData("auto", 2, 0, "cuda:0")]
    [InlineData("auto", 2, 1, "cuda:1")]
    [InlineData("cuda", 2, 0, "cuda:0")]
    [InlineData("cuda", 2, 1, "cuda:1")]
    [InlineData("cuda:1", 2, 0, "cuda:1")]
    [InlineData("cuda:0", 2, 1, "cuda:0")]
    public void Resolve_WithDevices(string option, int devices, int localRank, string expected)
    {
        var facts = new CudaFacts(Built: devices > 0, DeviceCount: devices);
        Assert.Equal(expected, TrainingDevice.Resolve(option, facts, localRank).ToString());
    }

    [Theory]
    [InlineData("cuda")]
    [InlineData("cuda:0")]
    public void Resolve_CudaWithoutADevice_SaysWhatLibtorchReports(string option)
    {
        var cpuBuild = Assert.Throws<TrainingOptionsException>(() => TrainingDevice.Resolve(option, NoCuda));
        Assert.Equal(["device"], cpuBuild.Fields);
        Assert.Contains("no CUDA device (CUDA build: no, CUDA devices: 0)", cpuBuild.Message);
        var noGpu = Assert.Throws<TrainingOptionsException>(() => TrainingDevice.Resolve(option, CudaBuildNoGpu));
        Assert.Contains("no CUDA device (CUDA build: yes, CUDA devices: 0)", noGpu.Message);
    }

    [Fact]
    public void Resolve_IndexPastTheDevices_NamesTheCount()
    {
        var e = Assert.Throws<TrainingOptionsException>(() => TrainingDevice.Resolve("cuda:2", TwoGpus));
        Assert.Equal(["device"], e.Fields);
        Assert.Contains("asks for CUDA device 2, but libtorch reports only 2 CUDA device(s)", e.Message);
        var worker = Assert.Throws<TrainingOptionsException>(() => TrainingDevice.Resolve("cuda", TwoGpus, localRank: 2));
        Assert.Contains("local rank 2 needs CUDA device 2", worker.Message);
    }

    [Fact]
    public void Resolve_OnThisMachine_AutoIsTheCpu_AndCudaFailsNamingDevice()
    {
        if (cuda.is_available())
        {
            // A GPU machine: auto is its first device (this branch does not run on the CPU-only build machine).
            Assert.Equal(new Device(DeviceType.CUDA, 0), TrainingDevice.Resolve("auto"));
            return;
        }
        Assert.Equal(CPU, TrainingDevice.Resolve("auto"));
        Assert.Equal(CPU, TrainingDevice.Resolve("cpu"));
        var e = Assert.Throws<TrainingOptionsException>(() => TrainingDevice.Resolve("cuda"));
        Assert.Equal(["device"], e.Fields);
        Assert.Contains("training option 'device': \"cuda\" asks for CUDA, but libtorch reports no CUDA device", e.Message);
    }

    [Theory]
    [InlineData("cpu", false, "gloo")]
    [InlineData("cpu", true, "gloo")]
    [InlineData("cuda:0", true, "nccl")]
    [InlineData("cuda:3", true, "nccl")]
    public void Backend_NcclForCuda_GlooForTheCpu(string device, bool nccl, string expected)
    {
        var (backend, reason) = DataParallelBackend.Choose(new Device(device), nccl);
        Assert.Equal(expected, backend);
        Assert.Contains(device, reason);
    }

    [Fact]
    public void Backend_CudaWithoutNccl_FailsRatherThanFallingBackToGloo()
    {
        var e = Assert.Throws<TrainingOptionsException>(() => DataParallelBackend.Choose(new Device("cuda:1"), ncclBuilt: false));
        Assert.Equal(["device"], e.Fields);
        Assert.Contains("training option 'device': cuda:1: a data-parallel run on CUDA needs NCCL, but the native shim was built without it", e.Message);
    }

    [Fact]
    public void TrainerState_CudaRngState_RoundTrips_AndIsLeftOutOnTheCpu()
    {
        var dir = Directory.CreateTempSubdirectory("fta-state-").FullName;
        try
        {
            new TrainerState { GlobalStep = 3, RngState = "AAE=" }.Write(dir);
            Assert.DoesNotContain("cuda_rng_state", File.ReadAllText(Path.Combine(dir, TrainerState.FileName)));
            Assert.Null(TrainerState.Read(dir).CudaRngState);
            new TrainerState { GlobalStep = 3, RngState = "AAE=", CudaRngState = "AgM=" }.Write(dir);
            Assert.Equal("AgM=", TrainerState.Read(dir).CudaRngState);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ReplicaOptionsHash_IgnoresTheDevice_ButNotOtherOptions()
    {
        var options = new TrainingOptions { MaxSteps = 4 };
        Assert.Equal(ReplicaCheck.OptionsHash(options with { Device = "cuda:0" }), ReplicaCheck.OptionsHash(options with { Device = "cuda:1" }));
        Assert.NotEqual(ReplicaCheck.OptionsHash(options), ReplicaCheck.OptionsHash(options with { Seed = 1 }));
    }
}
