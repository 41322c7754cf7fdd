namespace FineTuneAgent.Modeling.Chat;

/// <summary>Which assistant turns carry loss.</summary>
public enum ChatLossScope
{
    /// <summary>Every assistant turn (LLaMA-Factory's and torchtune's default for multi-turn data).</summary>
    AllAssistantTurns,

    /// <summary>Only the last assistant message; earlier turns are context.</summary>
    LastAssistantTurn,
}
