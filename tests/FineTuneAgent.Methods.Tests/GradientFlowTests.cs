using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Methods.Dora;
using FineTuneAgent.Methods.Freeze;
using FineTuneAgent.Methods.Full;
using FineTuneAgent.Methods.Lora;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Methods.Tests;

/// <summary>
/// For each method: which parameters receive gradients, and that every other parameter stays
/// bit-for-bit unchanged through an optimizer step. The expected trainable names are spelled
/// out here from each method's definition, not taken from the code under test.
/// </summary>
public sealed class GradientFlowTests
{
    public static IEnumerable<object[]> Cases()
    {
        yield return ["lora", "{\"r\": 2, \"target_modules\": [\"q_proj\", \"down_proj\"]}"];
        yield return ["dora", "{\"r\": 2, \"target_modules\": [\"v_proj\"]}"];
        yield return ["freeze", "{\"freeze_trainable_layers\": 1}"];
        yield return ["freeze", "{\"freeze_trainable_layers\": -1, \"freeze_trainable_modules\": [\"mlp\"], \"freeze_extra_modules\": [\"norm\"]}"];
        yield return ["full", "{}"];
        yield return ["qlora", "{\"r\": 2, \"target_modules\": [\"k_proj\", \"up_proj\"]}"];
        yield return ["qlora", "{\"r\": 2, \"quant_type\": \"int8\", \"target_modules\": [\"o_proj\"], \"use_dora\": true}"];
    }

    internal static IFineTuneMethod Method(string name) => name switch
    {
        "lora" => new LoraMethod(),
        "dora" => new DoraMethod(),
        "freeze" => new FreezeMethod(),
        "qlora" => new QLora.QLoraMethod(),
        _ => new FullMethod(),
    };

    /// <summary>Independent statement of what each case trains, by parameter name after adaptation.</summary>
    internal static bool ShouldTrain(string method, string settings, string name) => (method, settings.Contains("-1")) switch
    {
        ("lora", _) => (name.Contains(".q_proj.lora_") || name.Contains(".down_proj.lora_")) && (name.EndsWith(".lora_A.weight") || name.EndsWith(".lora_B.weight")),
        ("dora", _) => name.Contains(".v_proj.lora_") && (name.EndsWith(".lora_A.weight") || name.EndsWith(".lora_B.weight") || name.EndsWith(".lora_magnitude_vector")),
        ("qlora", _) when settings.Contains("int8") => name.Contains(".o_proj.lora_") && (name.EndsWith(".lora_A.weight") || name.EndsWith(".lora_B.weight") || name.EndsWith(".lora_magnitude_vector")),
        ("qlora", _) => (name.Contains(".k_proj.lora_") || name.Contains(".up_proj.lora_")) && (name.EndsWith(".lora_A.weight") || name.EndsWith(".lora_B.weight")),
        ("freeze", false) => name.StartsWith("model.layers.1.", StringComparison.Ordinal),
        ("freeze", true) => name.StartsWith("model.layers.0.mlp.", StringComparison.Ordinal) || name == "model.norm.weight",
        _ => true,
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void OnlyTheMethodsParametersTrain_AndTheRestStayExactlyUnchanged(string method, string settingsJson)
    {
        using var model = Models.Build(Models.Qwen3Json());
        var m = Method(method);
        var adapted = m.Adapt(model, Models.Template, m.ParseSettings(JsonNode.Parse(settingsJson)!.AsObject()));
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.clone());
        var buffersBefore = model.named_buffers().ToDictionary(b => b.name, b => b.buffer.clone());
        try
        {
            var expectedTrainable = before.Keys.Where(n => ShouldTrain(method, settingsJson, n)).Order().ToList();
            Assert.NotEmpty(expectedTrainable);
            Assert.Equal(expectedTrainable, adapted.TrainableParameters.Select(p => p.Name).Order());

            using var optimizer = optim.AdamW(adapted.ParameterGroups(0.01, 0.1), lr: 0.01);
            using (var scope = NewDisposeScope())
            {
                var ids = Models.Tokens(model);
                CausalLmLossOf(model, ids).backward();
            }
            foreach (var (name, p) in model.named_parameters())
            {
                using var g = p.grad;
                if (expectedTrainable.Contains(name))
                {
                    Assert.NotNull(g);
                    // B starts at zero, so A's gradient is zero on the first step; B's must not be.
                    if (!name.EndsWith(".lora_A.weight"))
                        Assert.True(g!.abs().sum().ToDouble() > 0, $"{name}: zero gradient");
                }
                else
                {
                    Assert.Null(g);
                }
            }
            optimizer.step();
            foreach (var (name, p) in model.named_parameters())
            {
                if (expectedTrainable.Contains(name) && !name.EndsWith(".lora_A.weight"))
                    Assert.False(p.equal(before[name]), $"{name} did not change");
                else if (!expectedTrainable.Contains(name))
                    Assert.True(p.equal(before[name]), $"{name} changed but is frozen");
            }
            // QLoRA's quantized weights are buffers: they must not move either.
            foreach (var (name, b) in model.named_buffers())
                Assert.True(b.equal(buffersBefore[name]), $"buffer {name} changed");
        }
        finally
        {
            foreach (var t in before.Values.Concat(buffersBefore.Values))
                t.Dispose();
        }
    }

    private static Tensor CausalLmLossOf(Modeling.Layers.CausalLM model, Tensor ids) =>
        Modeling.Layers.CausalLM.CausalLmLoss(model.forward(ids), ids);
}
