namespace FineTuneAgent.Core.Export;

/// <summary>What `fta export` writes.</summary>
public enum ExportFormat
{
    /// <summary>The PEFT adapter folder (adapter_config.json, adapter_model.safetensors), for LoRA, DoRA and QLoRA.</summary>
    Peft,

    /// <summary>A Hugging Face checkpoint with the adapter folded into the base weights.</summary>
    Merged,

    /// <summary>A GGUF file for llama.cpp / Ollama (merged first when there is an adapter).</summary>
    Gguf,

    /// <summary>A GGUF LoRA adapter (general.type "adapter") llama.cpp applies over the base model's GGUF; LoRA and QLoRA only (llama.cpp cannot apply DoRA).</summary>
    GgufAdapter,
}
