using FineTuneAgent.Modeling.Layers;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Adapters;

/// <summary>
/// One linear projection of a decoder layer as a place a method can put another module:
/// LoRA wraps it, QLoRA quantizes it. <see cref="Name"/> is its checkpoint path
/// (`model.layers.3.self_attn.q_proj`), the key PEFT's target_modules are matched against.
/// </summary>
public sealed class ProjectionSlot
{
    private readonly Func<nn.Module<Tensor, Tensor>> _get;
    private readonly Func<nn.Module<Tensor, Tensor>, nn.Module<Tensor, Tensor>> _replace;

    private ProjectionSlot(string name, int layerIndex, string shortName, Func<nn.Module<Tensor, Tensor>> get, Func<nn.Module<Tensor, Tensor>, nn.Module<Tensor, Tensor>> replace)
    {
        Name = name;
        LayerIndex = layerIndex;
        ShortName = shortName;
        _get = get;
        _replace = replace;
    }

    public string Name { get; }

    public int LayerIndex { get; }

    /// <summary>q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj or down_proj.</summary>
    public string ShortName { get; }

    /// <summary>The module in the slot now.</summary>
    public nn.Module<Tensor, Tensor> Module => _get();

    /// <summary>Puts <paramref name="module"/> in the slot and returns what was there (not disposed).</summary>
    public nn.Module<Tensor, Tensor> Replace(nn.Module<Tensor, Tensor> module) => _replace(module);

    public static readonly IReadOnlyList<string> AttentionProjections = ["q_proj", "k_proj", "v_proj", "o_proj"];

    public static readonly IReadOnlyList<string> MlpProjections = ["gate_proj", "up_proj", "down_proj"];

    /// <summary>Every decoder-layer projection of a model, layer by layer, attention before MLP.</summary>
    public static IReadOnlyList<ProjectionSlot> Of(CausalLM model)
    {
        var slots = new List<ProjectionSlot>();
        var layers = model.model.layers;
        for (var i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            var attention = layer.self_attn;
            var mlp = layer.mlp;
            foreach (var p in AttentionProjections)
            {
                var name = p;
                slots.Add(new ProjectionSlot($"model.layers.{i}.self_attn.{name}", i, name,
                    () => name switch { "q_proj" => attention.q_proj, "k_proj" => attention.k_proj, "v_proj" => attention.v_proj, _ => attention.o_proj },
                    m => attention.ReplaceProjection(name, m)));
            }
            foreach (var p in MlpProjections)
            {
                var name = p;
                slots.Add(new ProjectionSlot($"model.layers.{i}.mlp.{name}", i, name,
                    () => name switch { "gate_proj" => mlp.gate_proj, "up_proj" => mlp.up_proj, _ => mlp.down_proj },
                    m => mlp.ReplaceProjection(name, m)));
            }
        }
        return slots;
    }
}
