using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Methods.Lora;

namespace FineTuneAgent.Methods.QLora;

/// <summary>
/// QLoRA: LoRA's settings plus how the base projections are stored, under bitsandbytes'
/// BitsAndBytesConfig names: quant_type "nf4" (4-bit NormalFloat, bnb_4bit_quant_type) or
/// "int8" (row-wise absmax, load_in_8bit); blocksize (NF4 block, 64); double_quant
/// (bnb_4bit_use_double_quant: 8-bit absmax constants, true). use_dora true gives QDoRA.
/// </summary>
public sealed record QLoraSettings(LoraSettings Lora, string QuantType, int BlockSize, bool DoubleQuant) : MethodSettings("qlora")
{
    public static readonly IReadOnlyList<string> QuantTypes = ["nf4", "int8"];

    public static readonly IReadOnlyList<int> BlockSizes = [32, 64, 128, 256, 512, 1024, 2048, 4096];

    public QuantizedBase Storage => new(QuantType, BlockSize, DoubleQuant);

    public static QLoraSettings Read(JsonObject? json)
    {
        var reader = new SettingsReader("qlora", json);
        var useDora = reader.Bool("use_dora", false);
        var lora = LoraSettings.Read(reader, "qlora", useDora);
        var quantType = reader.String("quant_type", "nf4", QuantTypes.ToList());
        var blocksize = reader.Int("blocksize", 64);
        if (!BlockSizes.Contains(blocksize))
            throw reader.Error("blocksize", $"{blocksize} is not one of bitsandbytes' block sizes ({string.Join(", ", BlockSizes)})");
        var doubleQuant = reader.Bool("double_quant", true);
        if (quantType == "int8" && (reader.Has("blocksize") || reader.Has("double_quant")))
            throw reader.Error(reader.Has("blocksize") ? "blocksize" : "double_quant", "applies to nf4 only; int8 keeps one scale per row");
        reader.RejectUnknown();
        return new QLoraSettings(lora, quantType, blocksize, doubleQuant);
    }

    public override JsonObject ToJson()
    {
        var o = Lora.ToJson();
        o["quant_type"] = QuantType;
        if (QuantType == "nf4")
        {
            o["blocksize"] = BlockSize;
            o["double_quant"] = DoubleQuant;
        }
        return o;
    }
}
