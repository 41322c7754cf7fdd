using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Tests.Quantization;

/// <summary>
/// Runs tests/compat/bnb_reference.py (plain PyTorch, written from the bitsandbytes algorithm)
/// once on a set of weights: partial last blocks, an odd element count, bf16/fp16 inputs, more
/// than 256 blocks (two nested blocks, the last partial), a block of zeros, and int8 cases.
/// </summary>
public sealed class BnbReferenceFixture : IDisposable
{
    public BnbReferenceFixture()
    {
        manual_seed(1234);
        using (NewDisposeScope())
            AddCases();

        var work = Path.Combine(Path.GetTempPath(), $"fta-bnb-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            var input = Path.Combine(work, "input.safetensors");
            var output = Path.Combine(work, "output.safetensors");
            Safetensors.Save(input, Inputs, How);
            CompatPython.Run("bnb_reference.py", input, output);
            Outputs = Safetensors.Load(output);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Weights by name (owned by the fixture).</summary>
    public Dictionary<string, Tensor> Inputs { get; } = new();

    /// <summary>How each input is quantized: "nf4:BLOCKSIZE" or "int8".</summary>
    public Dictionary<string, string> How { get; } = new();

    /// <summary>The reference's tensors: NAME.packed, NAME.absmax, …, nf4_code, dynamic_map.</summary>
    public Dictionary<string, Tensor> Outputs { get; }

    private void AddCases()
    {
        Add("f32_partial", randn(33, 40), "nf4:64");               // 1320 = 20·64 + 40
        Add("f32_odd", randn(7, 9) * 3, "nf4:32");                 // 63 elements, last block 31
        Add("bf16_partial", randn([16, 70], ScalarType.BFloat16), "nf4:128");
        // Rows scaled differently so the absmax values spread; 19500 = 304·64 + 44, 305 blocks.
        Add("f16_nested", (randn(300, 65) * (arange(300, ScalarType.Float32).unsqueeze(1) / 100 + 0.05)).to_type(ScalarType.Float16), "nf4:64");
        Add("f32_zero_block", cat([zeros(1, 64), randn(1, 64)], 0), "nf4:64");
        Add("f32_large_block", randn(5, 1000), "nf4:4096");        // one partial block
        Add("int8_f32", randn(12, 50), "int8");
        Add("int8_bf16", randn([9, 33], ScalarType.BFloat16), "int8");
    }

    private void Add(string name, Tensor weight, string how)
    {
        Inputs[name] = weight.DetachFromDisposeScope();
        How[name] = how;
    }

    public void Dispose()
    {
        foreach (var t in Inputs.Values.Concat(Outputs.Values))
            t.Dispose();
    }
}
