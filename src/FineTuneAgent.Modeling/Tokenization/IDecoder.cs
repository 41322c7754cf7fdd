namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>A tokenizer.json <c>decoder</c>: turns token strings back into text, as a chain of
/// string-list transformations whose result is concatenated.</summary>
internal interface IDecoder
{
    List<string> DecodeChain(List<string> tokens);
}
