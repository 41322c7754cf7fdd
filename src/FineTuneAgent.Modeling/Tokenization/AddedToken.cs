namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>
/// A token added on top of the model's vocabulary (tokenizer.json <c>added_tokens</c>), such as
/// <c>&lt;|im_start|&gt;</c> or <c>&lt;think&gt;</c>. The text is split on added tokens before
/// normalization, so they are never broken up by BPE.
/// </summary>
/// <param name="Id">Token id.</param>
/// <param name="Content">The token's text.</param>
/// <param name="SingleWord">Only match when not inside a word.</param>
/// <param name="LStrip">Swallow the whitespace on its left.</param>
/// <param name="RStrip">Swallow the whitespace on its right.</param>
/// <param name="Normalized">Match against the normalized text rather than the raw text.</param>
/// <param name="Special">A special token: dropped by decoding with skipSpecialTokens.</param>
public sealed record AddedToken(
    int Id,
    string Content,
    bool SingleWord = false,
    bool LStrip = false,
    bool RStrip = false,
    bool Normalized = false,
    bool Special = false);
