using System.CommandLine;
using System.Text.Json;
using FineTuneAgent.Core.Hardware;
using Spectre.Console;

namespace FineTuneAgent.Console.Commands;

/// <summary>
/// `fta hw`: the CPU (cores, memory, bf16-capable instruction sets), the GPUs (memory free and total,
/// compute capability, bf16), and set-up problems with their fix. Never fails for lack of a GPU.
/// </summary>
public static class HardwareCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of tables." };
        var smi = new Option<string?>("--nvidia-smi") { Description = "The nvidia-smi to run (default: the one on PATH)." };
        var command = new Command("hw", "Show this machine's CPU and GPUs as training sees them, and set-up problems with their fix.") { json, smi };
        command.SetAction(parse => Run(parse.GetValue(json), parse.GetValue(smi)));
        return command;
    }

    private static int Run(bool json, string? smi)
    {
        var probe = smi is null ? new HardwareProbe() : new HardwareProbe { NvidiaSmiExecutable = smi };
        var report = probe.Probe();
        if (json)
        {
            System.Console.WriteLine(JsonSerializer.Serialize(report, HardwareReport.JsonOptions));
            return 0;
        }
        var console = Terminal.Create();
        var cpu = report.Cpu;
        var cpuTable = new Table().AddColumns("CPU", "Cores (torch threads)", "Memory available / total", "Instruction sets", "bf16");
        cpuTable.AddRow(Markup.Escape(cpu.Model), $"{cpu.LogicalCores} ({cpu.TorchThreads})",
            $"{HardwareProbe.Gib(cpu.AvailableMemoryBytes)} / {HardwareProbe.Gib(cpu.TotalMemoryBytes)}",
            cpu.InstructionSets.Count > 0 ? string.Join(", ", cpu.InstructionSets) : "-", cpu.Bf16 ? "hardware" : "emulated (slower than fp32)");
        console.Write(cpuTable);
        if (report.Gpus.Count == 0)
        {
            console.MarkupLine($"GPUs: none{(report.TorchCudaBuild ? "" : " (libtorch " + Markup.Escape(report.TorchVersion) + " is a CPU build)")}");
        }
        else
        {
            var gpuTable = new Table().AddColumns("GPU", "Name", "Free / total", "Compute", "bf16", "Seen by");
            foreach (var g in report.Gpus)
                gpuTable.AddRow($"{g.Index}", Markup.Escape(g.Name), $"{HardwareProbe.Gib(g.FreeMemoryBytes)} / {HardwareProbe.Gib(g.TotalMemoryBytes)}",
                    g.ComputeMajor > 0 ? g.ComputeCapability : "?", g.ComputeMajor > 0 ? (g.Bf16 ? "yes" : "no") : "?", g.Source);
            console.Write(gpuTable);
        }
        if (report.Problems.Count == 0)
        {
            console.MarkupLine("[green]No set-up problems found.[/]");
            return 0;
        }
        foreach (var p in report.Problems)
        {
            console.MarkupLine($"[yellow]problem:[/] {Markup.Escape(p.Problem)}");
            console.MarkupLine($"  [grey]fix:[/] {Markup.Escape(p.Fix)}");
        }
        return 0;
    }
}
