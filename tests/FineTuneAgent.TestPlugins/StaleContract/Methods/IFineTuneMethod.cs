namespace FineTuneAgent.Abstractions.Methods;

/// <summary>The method contract as an imagined older version had it.</summary>
public interface IFineTuneMethod
{
    string Name { get; }

    string Description { get; }

    void Train(string dataset);
}
