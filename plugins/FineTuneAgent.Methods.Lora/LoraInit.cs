namespace FineTuneAgent.Methods.Lora;

/// <summary>How A and B start (PEFT's init_lora_weights).</summary>
public enum LoraInit
{
    /// <summary>true: Kaiming-uniform A (a = √5), zero B, so the adapter starts as a no-op.</summary>
    Default,

    /// <summary>"gaussian": A ~ N(0, 1/r), zero B.</summary>
    Gaussian,

    /// <summary>"pissa": A and B from the top-r singular vectors of W; the residual becomes the base.</summary>
    Pissa,

    /// <summary>false: A and B both random, not a no-op (for tests and debugging, as in PEFT).</summary>
    Random,
}
