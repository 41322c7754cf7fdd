namespace FineTuneAgent.Torch;

/// <summary>
/// The dtype strings of the safetensors format, spelled exactly as they appear in headers.
/// Declared in the reference implementation's order, which is increasing alignment: the
/// writer sorts tensors by this order (descending) so every tensor's data stays aligned.
/// </summary>
public enum SafetensorsDType
{
    BOOL,
    F4,
    F6_E2M3,
    F6_E3M2,
    U8,
    I8,
    F8_E5M2,
    F8_E4M3,
    F8_E8M0,
    F8_E4M3FNUZ,
    F8_E5M2FNUZ,
    I16,
    U16,
    F16,
    BF16,
    I32,
    U32,
    F32,
    C64,
    F64,
    I64,
    U64,
}
