namespace FineTuneAgent.Core.Export.Gguf;

/// <summary>
/// The type a GGUF export stores matrices in. Norms and other 1-D tensors stay F32 whatever the
/// choice, as llama.cpp's converter does.
/// </summary>
public enum GgufQuant
{
    F32,
    F16,
    Q8_0,
    Q4_0,
}
