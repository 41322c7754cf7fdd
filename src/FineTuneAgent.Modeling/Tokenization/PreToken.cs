namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>
/// A piece of text on its way to the model. <see cref="AtStart"/> says whether the piece begins at
/// the start of the encoded text (HF's <c>offsets_original().0 == 0</c>), which Metaspace's
/// <c>prepend_scheme: "first"</c> looks at.
/// </summary>
internal readonly record struct PreToken(ReadOnlyMemory<char> Text, bool AtStart);
